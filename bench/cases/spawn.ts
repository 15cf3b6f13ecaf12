// spawn → EXIT against its floors: a bare core instance (our spawn reuses the ended
// process's instance instead), the transpiled component called directly, and Erlang's
// spawn_monitor → 'DOWN' compiled with erlc (one process at a time, and in batches of
// 1 000), each Erlang figure compared as a rate.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTranspiled } from "../../src/wasm/transpile-cache.ts";
import { alternating, openProject, REPO, RssPeak, sample, stats, type Measured, type Row } from "../lib.ts";

const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: answer, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: answer }
  - { name: greet, kind: process.wasm, fs: bin, path: /greet.wasm, hash: "{{hash:wasm/greet.wasm}}", method: greet }
`;
const BINARIES = { "wasm/compute.wasm": "core/compute.wasm", "wasm/greet.wasm": "components/greet/greet.wasm" };

/** µs per process over `n` sequential spawn → EXIT; `rss` is sampled every 500. */
async function perProcess(n: number, once: () => Promise<unknown> | unknown, rss?: RssPeak): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await once();
    if (i % 500 === 0) rss?.mark();
  }
  return ((performance.now() - t) * 1000) / n;
}

const N = 5000;

/** Opens the bench project; `exit` spawns one monitored process and waits for its EXIT. */
async function project() {
  const rt = await openProject(YAML, BINARIES);
  const exit = async (id: string, ...args: unknown[]) => {
    await rt.process.spawnMonitored(id, "b:hosts", ...args);
    expectExit(await rt.process.receive()); // no timeout: a timer per receive would be the harness's cost, not ours
  };
  return { rt, exit };
}

function expectExit(ev: unknown): void {
  const e = ev as { type?: string } | undefined;
  if (e?.type !== "EXIT" || !("value" in e)) throw new Error(`bench process failed: ${JSON.stringify(ev)}`);
}

/** The measurements that report RSS, each run in a fresh process by bench/child.ts. */
export const spawnChildren: Record<string, (runs: number) => Promise<Measured>> = {
  async "bare-instance"(runs) {
    const module = new WebAssembly.Module(readFileSync(join(REPO, "fixtures/core/compute.wasm")));
    const rss = new RssPeak();
    const samples = await sample(runs, () => perProcess(N, () => (new WebAssembly.Instance(module).exports.answer as () => number)(), rss));
    return { samples, rssMiB: rss.stop() };
  },
  async "spawn-seq"(runs) {
    const { rt, exit } = await project();
    try {
      const rss = new RssPeak();
      const samples = await sample(runs, () => perProcess(N, () => exit("b:answer"), rss));
      return { samples, rssMiB: rss.stop() };
    } finally {
      await rt.close();
    }
  },
  // BATCH spawned and monitored, then BATCH EXITs received (as Erlang's batch row does)
  async "spawn-batch"(runs) {
    const { rt } = await project();
    try {
      const rss = new RssPeak();
      const samples = await sample(runs, async () => {
        const t = performance.now();
        for (let b = 0; b < N / BATCH; b++) {
          const pids: Promise<string>[] = [];
          for (let i = 0; i < BATCH; i++) pids.push(rt.process.spawnMonitored("b:answer", "b:hosts"));
          await Promise.all(pids);
          rss.mark();
          for (let i = 0; i < BATCH; i++) expectExit(await rt.process.receive());
        }
        return ((performance.now() - t) * 1000) / N;
      });
      return { samples, rssMiB: rss.stop() };
    } finally {
      await rt.close();
    }
  },
};

export async function spawnCases(runs: number): Promise<Row[]> {
  const [floor, core, batch] = alternating(["bare-instance", "spawn-seq", "spawn-batch"], runs);
  const rows: Row[] = [
    {
      name: "spawn → EXIT, core module (`answer`)",
      unit: "µs/process",
      value: stats(core!.samples),
      baselineName: "`new WebAssembly.Instance` + call",
      baseline: stats(floor!.samples),
      rss: { value: core!.rssMiB, baseline: floor!.rssMiB },
      note: "one process at a time, so each spawn takes the last one's instance from its host's pool and resets it (`__wippy_reset`) instead of instantiating; the baseline instantiates every time",
    },
  ];

  // The component floor: jco's own output, uninstrumented, instantiated and called directly.
  const { rt, exit } = await project();
  try {
    const greetBytes = readFileSync(join(REPO, "fixtures/components/greet/greet.wasm"));
    const transpiled = await loadTranspiled(greetBytes, "bench-greet", mkdtempSync(join(tmpdir(), "wippy-bench-")), "memory");
    const mod = (await import(pathToFileURL(join(transpiled.dir, "component.js")).href)) as { instantiate: typeof transpiled.instantiate };
    const plainCores = new Map<string, WebAssembly.Module>();
    for (const name of transpiled.coreModules.keys()) plainCores.set(name, new WebAssembly.Module(readFileSync(join(transpiled.dir, name))));
    const direct = async () => {
      const exports = await mod.instantiate((name) => plainCores.get(name)!, {});
      await (exports.greet as (s: string) => Promise<string>)("x");
    };
    const N2 = 500;
    const componentFloor = await sample(runs, () => perProcess(N2, direct));
    const component = await sample(runs, () => perProcess(N2, () => exit("b:greet", "x")));
    rows.push({ name: "spawn → EXIT, component (`greet`)", unit: "µs/process", value: stats(component), baselineName: "transpiled component, instantiate + call", baseline: stats(componentFloor) });
  } finally {
    await rt.close();
  }
  rows.push(...erlangRows(runs, { core: core!.samples, coreRss: core!.rssMiB, batch: batch!.samples, batchRss: batch!.rssMiB }));
  return rows;
}

const BATCH = 1000;

/** The rows against compiled Erlang: one process at a time, and batches of BATCH. */
function erlangRows(runs: number, ours: { core: number[]; coreRss: number; batch: number[]; batchRss: number }): Row[] {
  const seqName = "spawn → EXIT, core module (`answer`), one at a time";
  const batchName = `spawn → EXIT, core module (\`answer\`), ${BATCH.toLocaleString("en")} spawned then ${BATCH.toLocaleString("en")} EXITs`;
  const erlang = compileErlang();
  if (typeof erlang === "string") {
    console.log(`  spawn: Erlang rows skipped: ${erlang}`);
    return [
      { name: seqName, unit: "µs/process", value: stats(ours.core), baselineName: `Erlang: skipped, ${erlang}`, rss: { value: ours.coreRss } },
      { name: batchName, unit: "µs/process", value: stats(ours.batch), baselineName: `Erlang: skipped, ${erlang}`, rss: { value: ours.batchRss } },
    ];
  }
  const seq = erlang("seq");
  const batch = erlang("batch");
  return [
    { name: seqName, unit: "µs/process", value: stats(ours.core), baselineName: "Erlang `spawn_monitor` → `'DOWN'` (erlc), one at a time", baseline: stats(seq.us), rateRatio: true, rss: { value: ours.coreRss, baseline: seq.rssMiB } },
    { name: batchName, unit: "µs/process", value: stats(ours.batch), baselineName: `Erlang (erlc), ${BATCH.toLocaleString("en")} \`spawn_monitor\` then ${BATCH.toLocaleString("en")} \`'DOWN'\``, baseline: stats(batch.us), rateRatio: true, rss: { value: ours.batchRss, baseline: batch.rssMiB } },
  ];

  /** Compiles bench/erlang/spawn_bench.erl into a temporary folder; a reason when it cannot. */
  function compileErlang(): string | ((mode: "seq" | "batch") => { us: number[]; rssMiB: number }) {
    const dir = mkdtempSync(join(tmpdir(), "wippy-bench-erl-"));
    const erlc = spawnSync("erlc", ["-o", dir, join(REPO, "bench/erlang/spawn_bench.erl")], { encoding: "utf8" });
    if (erlc.error) return "`erlc` is not on PATH (apt-get install erlang-base)";
    if (erlc.status !== 0) return `erlc failed: ${erlc.stderr.trim().split("\n")[0]}`;
    return (mode) => {
      const us: number[] = [];
      let rssMiB = 0;
      for (let i = 0; i < runs; i++) {
        // one VM per run, so that each run's peak RSS is its own
        const r = spawnSync("erl", ["-noshell", "-pa", dir, "-run", "spawn_bench", "main", mode, String(ERLANG_N)], { encoding: "utf8" });
        if (r.error || r.status !== 0) throw new Error(`erl ${mode}: ${r.error?.message ?? r.stderr}`);
        const [perProcess, kib] = r.stdout.trim().split(/\s+/).map(Number);
        us.push(perProcess!);
        rssMiB = Math.max(rssMiB, kib! / 1024);
      }
      return { us, rssMiB };
    };
  }
}

/** Processes per Erlang run, after its warm-up of 10 000. */
const ERLANG_N = 200_000;
