// A large module (issue 17, item 8): a generated C command of about LARGE_MB MB
// (test/helpers/large-guest.ts; the first bench on a machine compiles it, about 10 s a MB), run as a user runs it, `wippy run`, each time a whole OS
// process with its peak RSS.
// - First run (empty cache): the byte instrumenter against binaryen's path on the same
//   module (WIPPY_INSTRUMENT_ENGINE=binaryen), in turn.
// - Warm runs (cache filled): against the same command under `node:wasi`, the plain way to
//   run a WASI command in Node; one pass over its functions (start-up dominates) and 20.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { largeGuest } from "../../test/helpers/large-guest.ts";
import { sha256 } from "../../test/helpers/project.ts";
import { inTurn, REPO, stats, type Row } from "../lib.ts";

const LARGE_MB = Number(process.env.WIPPY_BENCH_LARGE_MB ?? 8);

/**
 * Writes the process's peak RSS (MiB) to the file in WIPPY_BENCH_RSS_FILE as it exits: VmHWM,
 * its own memory's high-water mark (getrusage's maxRSS would start at the bench's own RSS,
 * which Linux hands on to a child at exec).
 */
const RECORD_RSS = `data:text/javascript,process.on("exit",()=>{const fs=process.getBuiltinModule("node:fs");fs.writeFileSync(process.env.WIPPY_BENCH_RSS_FILE,String(Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status","utf8"))[1])/1024))})`;

const NODE_WASI = `
import { WASI } from "node:wasi";
import { readFileSync } from "node:fs";
process.removeAllListeners("warning"); // WASI's experimental warning
const wasi = new WASI({ version: "preview1", args: ["large", ...process.argv.slice(3)] });
const module = await WebAssembly.compile(readFileSync(process.argv[2]));
process.exitCode = wasi.start(await WebAssembly.instantiate(module, wasi.getImportObject()));
`;

function project(wasm: string): string {
  const root = mkdtempSync(join(tmpdir(), "wippy-bench-large-"));
  mkdirSync(join(root, "wasm"));
  mkdirSync(join(root, "src"));
  copyFileSync(wasm, join(root, "wasm", "large.wasm"));
  writeFileSync(join(root, "node-wasi.mjs"), NODE_WASI);
  writeFileSync(join(root, "src", "app.yaml"), `
version: "1.0"
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: processes, kind: process.host }
  - { name: trusted, kind: process.host, host: { preempt: false } }
  - { name: terminal, kind: terminal.host }
  - name: large
    kind: process.wasm
    fs: b:bin
    path: /large.wasm
    hash: sha256:${sha256(wasm)}
    method: _start
    imports: [wasi:cli, wasi:io, wasi:clocks, wasi:random, wasi:filesystem]
`);
  return root;
}

const WHOLE_RSS = "peak RSS of the whole OS process (VmHWM), not above an idle one";

interface Run {
  ms: number;
  rssMiB: number;
}

export async function largeCases(runs: number): Promise<Row[]> {
  let wasm: string;
  try {
    wasm = await largeGuest(LARGE_MB * 2 ** 20, { command: true });
  } catch (err) {
    return [{ name: `large module (${LARGE_MB} MB of C)`, unit: "ms", value: stats([0]), baselineName: "—", note: `skipped: ${(err as Error).message}` }];
  }
  const root = project(wasm);
  const rssFile = join(root, "rss");
  // what the command prints, by rounds: node:wasi's output is the reference
  const expected = new Map<number, string>();
  const run = (args: string[], env: Record<string, string>, rounds: number): Run => {
    const t = performance.now();
    const r = spawnSync(process.execPath, ["--import", RECORD_RSS, ...args], { cwd: root, env: { ...process.env, ...env, WIPPY_BENCH_RSS_FILE: rssFile }, encoding: "utf8" });
    const ms = performance.now() - t;
    const printed = r.stdout.trim();
    if (r.status === 0 && !expected.has(rounds)) expected.set(rounds, printed);
    if (r.status !== 0 || printed !== expected.get(rounds)) throw new Error(`${args.join(" ")}: status ${r.status}, stdout ${r.stdout.trim()}, stderr ${r.stderr.trim()}`);
    return { ms, rssMiB: Number(readFileSync(rssFile, "utf8")) };
  };
  const wippy = (host: string, rounds: number, env: Record<string, string>) =>
    run([join(REPO, "bin/wippy.js"), "run", "--host", host, "-x", "b:large", String(rounds)], env, rounds);
  const nodeWasi = (rounds: number) => run(["node-wasi.mjs", "wasm/large.wasm", String(rounds)], {}, rounds);

  for (const rounds of [1, 20]) nodeWasi(rounds); // the reference outputs
  // first runs: a fresh cache each time
  const cold = (engine: string) => {
    const cache = mkdtempSync(join(tmpdir(), "wippy-bench-large-cache-"));
    try {
      return wippy("b:processes", 1, { WIPPY_CACHE_DIR: cache, WIPPY_INSTRUMENT_ENGINE: engine });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  };
  const firstRuns = Math.min(runs, 3); // binaryen's takes many seconds
  const coldSamples = { auto: [] as Run[], binaryen: [] as Run[] };
  for (let i = 0; i < firstRuns; i++) {
    coldSamples.auto.push(cold("auto"));
    coldSamples.binaryen.push(cold("binaryen"));
  }

  const cache = mkdtempSync(join(tmpdir(), "wippy-bench-large-cache-"));
  const warm = { WIPPY_CACHE_DIR: cache };
  const warmRows: Row[] = [];
  for (const rounds of [1, 20]) {
    for (const host of ["b:processes", "b:trusted"]) {
      const samples: Run[][] = [[], []];
      await inTurn(runs, [
        async () => (samples[0]!.push(wippy(host, rounds, warm)), 0),
        async () => (samples[1]!.push(nodeWasi(rounds)), 0),
      ]);
      const [ours, theirs] = samples.map((s) => s.slice(-runs));
      warmRows.push({
        name: `${LARGE_MB} MB C command, warm \`wippy run\`, ${rounds} pass${rounds > 1 ? "es" : ""}${host === "b:trusted" ? ", `preempt: false`" : ""}`,
        unit: "ms",
        value: stats(ours!.map((r) => r.ms)),
        baselineName: "the same under `node:wasi`",
        baseline: stats(theirs!.map((r) => r.ms)),
        rss: { value: stats(ours!.map((r) => r.rssMiB)).median, baseline: stats(theirs!.map((r) => r.rssMiB)).median },
      });
    }
  }
  rmSync(cache, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  return [
    {
      name: `${LARGE_MB} MB C command, first \`wippy run\` (prepare + run; peak RSS of the whole process)`,
      unit: "ms",
      value: stats(coldSamples.auto.map((r) => r.ms)),
      baselineName: "the same through binaryen",
      baseline: stats(coldSamples.binaryen.map((r) => r.ms)),
      rss: { value: stats(coldSamples.auto.map((r) => r.rssMiB)).median, baseline: stats(coldSamples.binaryen.map((r) => r.rssMiB)).median },
      note: `${WHOLE_RSS} (in every large-module row); goals: under 10 s and 400 MB for CRuby's 30 MB`,
    },
    ...warmRows,
  ];
}
