// spawn → EXIT of one process at a time, against its floors: a bare core instance,
// the transpiled component called directly, and Erlang's spawn_monitor → 'DOWN'.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTranspiled } from "../../src/wasm/transpile-cache.ts";
import { openProject, REPO, sample, stats, type Row } from "../lib.ts";

const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: answer, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: answer }
  - { name: greet, kind: process.wasm, fs: bin, path: /greet.wasm, hash: "{{hash:wasm/greet.wasm}}", method: greet }
`;
const BINARIES = { "wasm/compute.wasm": "core/compute.wasm", "wasm/greet.wasm": "components/greet/greet.wasm" };

/** µs per process over `n` sequential spawn → EXIT. */
async function perProcess(n: number, once: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await once();
  return ((performance.now() - t) * 1000) / n;
}

export async function spawnCases(runs: number): Promise<Row[]> {
  const rows: Row[] = [];
  const rt = await openProject(YAML, BINARIES);
  try {
    const proc = rt.process;
    const N = 5000;
    const exit = async (id: string, ...args: unknown[]) => {
      await proc.spawnMonitored(id, "b:hosts", ...args);
      const ev = await proc.receive(); // no timeout: a timer per receive would be the harness's cost, not ours
      if (ev?.type !== "EXIT" || !("value" in ev)) throw new Error(`bench process failed: ${JSON.stringify(ev)}`);
    };
    const module = new WebAssembly.Module(readFileSync(join(REPO, "fixtures/core/compute.wasm")));
    const bare = () => (new WebAssembly.Instance(module).exports.answer as () => number)();
    const floor = await sample(runs, () => perProcess(N, bare));
    const core = await sample(runs, () => perProcess(N, () => exit("b:answer")));
    rows.push({ name: "spawn → EXIT, core module (`answer`)", unit: "µs/process", value: stats(core), baselineName: "`new WebAssembly.Instance` + call", baseline: stats(floor) });

    // The component floor: jco's own output, uninstrumented, instantiated and called directly.
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

    const erlang = erlangSpawn(runs);
    rows.push(
      erlang
        ? { name: "spawn → EXIT, core module (`answer`)", unit: "µs/process", value: stats(core), baselineName: "Erlang `spawn_monitor` → `'DOWN'`", baseline: stats(erlang) }
        : { name: "spawn → EXIT vs Erlang", unit: "µs/process", value: stats(core), baselineName: "Erlang: skipped, `erl` is not on PATH (apt-get install erlang-base)" },
    );
  } finally {
    await rt.close();
  }
  return rows;
}

const ERL = `
N = 200000,
Loop = fun L(0) -> ok; L(K) -> {P, R} = spawn_monitor(fun() -> ok end), receive {'DOWN', R, process, P, _} -> L(K - 1) end end,
Loop(10000),
T0 = erlang:monotonic_time(nanosecond), Loop(N), T1 = erlang:monotonic_time(nanosecond),
io:format("~f~n", [(T1 - T0) / N / 1000]), halt().
`;

/** µs per spawn_monitor → 'DOWN' in erl, one VM per run; undefined when erl is absent. */
function erlangSpawn(runs: number): number[] | undefined {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync("erl", ["-noshell", "-eval", ERL.replace(/\n/g, " ")], { encoding: "utf8" });
    if (r.error || r.status !== 0) return undefined;
    out.push(Number(r.stdout.trim()));
  }
  return out;
}
