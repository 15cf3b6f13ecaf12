// The I/O of one WASM process, on whichever thread it runs: its WASI view from
// its entry, and the process API (wippy:process) when it holds it.

import { LuaProcess, luaArgv } from "../lua/lua-process.ts";
import { buildProcessIO, type IOContext } from "../process/io.ts";
import type { WasmProcess } from "../process/wasm-process.ts";
import type { ProcessIO } from "../wasm/program.ts";
import { GuestProcess, type GuestCore } from "./process-host.ts";

export function wasmProcessIO(proc: WasmProcess, args: unknown[], ctx: IOContext, core: GuestCore): ProcessIO {
  const io = buildProcessIO(proc.wasmEntry, args, ctx, proc);
  if (proc instanceof LuaProcess) {
    io.argv = luaArgv(proc.luaEntry, ctx.registry, args);
    // the interpreter imports the API whatever the entry grants (it ends through set-result);
    // only `modules: [process]` lets Lua code reach it, and spawn rights stay the entry's
    io.process = new GuestProcess(core, proc, proc.receives ? proc.wasmEntry.process?.spawn : undefined);
  } else if (proc.receives) {
    io.process = new GuestProcess(core, proc, proc.wasmEntry.process?.spawn);
  }
  return io;
}
