// process.lua: spawn → EXIT of a trivial Lua process (one interpreter state per
// process: instantiate lua.wasm, luaL_newstate + openlibs, run `return 1`, set-result)
// against a C WASI command in the same run; and the memory of parked Lua processes.

import { luaBinaryPath } from "../../src/lua/lua-process.ts";
import { GARBAGE_NOTE, openProject, parkedMemory, sample, stats, type Row } from "../lib.ts";

const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 5000 } }
  - { name: answer, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: answer }
  - { name: command, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:wasm/hello.wasm}}", method: _start, imports: [wasi:cli] }
  - { name: trivial, kind: process.lua, source: "return 1" }
  - { name: parked, kind: process.lua, modules: [process], source: "return require('process').receive()" }
`;

const PARKED = Number(process.env.BENCH_LUA_PARKED ?? 1000);

/** µs per process over `n` sequential spawn → EXIT. */
async function perProcess(n: number, once: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await once();
  return ((performance.now() - t) * 1000) / n;
}


export async function luaCases(runs: number): Promise<Row[]> {
  if (!luaBinaryPath()) throw new Error("bench lua: build/lua/lua.wasm is missing: run npm run build:lua");
  const rt = await openProject(YAML, { "wasm/compute.wasm": "core/compute.wasm", "wasm/hello.wasm": "c/hello.core.wasm" });
  const rows: Row[] = [];
  try {
    const p = rt.process;
    const exit = async (id: string) => {
      await p.spawnMonitored(id, "b:hosts");
      const ev = await p.receive();
      if (ev?.type !== "EXIT" || !("value" in ev)) throw new Error(`bench process failed: ${JSON.stringify(ev)}`);
    };
    const N = 300;
    const lua = stats(await sample(runs, () => perProcess(N, () => exit("b:trivial"))));
    const command = stats(await sample(runs, () => perProcess(N, () => exit("b:command"))));
    const core = stats(await sample(runs, () => perProcess(N, () => exit("b:answer"))));
    rows.push({
      name: "spawn → EXIT, process.lua (`return 1`, one interpreter state per process)",
      unit: "µs/process",
      value: lua,
      baselineName: "spawn → EXIT, a C WASI command (hello.c: wasi-libc start, a few writes)",
      baseline: command,
      note: `the difference of the medians, ${(lua.median - command.median).toFixed(0)} µs (luaL_newstate, openlibs, the chunk, lua_close, a 20× larger module, against hello's writes), bounds what a snapshot of an initialised interpreter could save per spawn; spawn → EXIT of a core module (\`answer\`) in the same run: ${core.median.toFixed(0)} µs`,
    });

    const parked = await parkedMemory(rt, "b:parked", "b:hosts", PARKED);
    const linear = parked.linearMemory;
    const perProcessRss = parked.rssPerProcess;
    const one = (n: number) => ({ median: n / 1024, min: n / 1024, max: n / 1024 });
    rows.push({
      name: `memory of one of ${PARKED.toLocaleString("en")} Lua processes parked in receive (RSS)`,
      unit: "KiB",
      value: one(perProcessRss),
      baselineName: "its linear memory (an interpreter state after openlibs)",
      baseline: one(linear),
      note: `a snapshot would still need each process's own ${linear / 1024} KiB linear memory; JS heap per process ${(parked.heapPerProcess / 1024).toFixed(1)} KiB${GARBAGE_NOTE}`,
    });
  } finally {
    await rt.close();
  }
  return rows;
}
