// A process.lua entry runs as a WASM guest: the Lua interpreter (build/lua/lua.wasm,
// `npm run build:lua`) as a WASI command, with the chunk, its method, the granted
// modules and the spawn arguments as argv (lua/main.c reads them). The process core
// sees an ordinary WASM process of kind "lua"; only this file knows what the argv
// and the result envelope mean.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { LuaEntry, Registry, WasiInterface } from "../registry/types.ts";
import type { BuiltinWasmEntry } from "../wasm/loader.ts";
import { ProcessError, type ExitResult } from "../process/exit.ts";
import type { ActorParent } from "../process/actor-tree.ts";
import type { WasmHost } from "../process/wasm-process.ts";
import { WasmProcess, type WasmProcessDeps } from "../process/wasm-process.ts";

/** Where the interpreter is: build/lua/ of this package (from src/lua/ or dist/src/lua/). */
export function luaBinaryPath(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const candidate = path.resolve(here, up, "build", "lua", "lua.wasm");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const MISSING = "the Lua interpreter build/lua/lua.wasm is missing: run npm run build:lua";

// Everything the interpreter imports; what it may reach is decided elsewhere: files only
// through wasi.mounts (no other preopens), the process API only through `require("process")`.
const INTERPRETER_IMPORTS: readonly WasiInterface[] = ["wasi:cli", "wasi:io", "wasi:clocks", "wasi:filesystem", "wasi:random", "wippy:process"];

let binary: { file: string; hash: string; mtimeMs: number; size: number } | undefined;

/** The interpreter's path and hash; hashed again only when the file changed (a rebuild while running). */
function interpreter(): { file: string; hash: string } {
  if (binary) {
    const now = statOrUndefined(binary.file);
    if (now && now.mtimeMs === binary.mtimeMs && now.size === binary.size) return binary;
  }
  const file = luaBinaryPath();
  const stat = file ? statOrUndefined(file) : undefined;
  if (!file || !stat) throw new ProcessError("spawn", MISSING);
  binary = { file, hash: createHash("sha256").update(readFileSync(file)).digest("hex"), mtimeMs: stat.mtimeMs, size: stat.size };
  return binary;
}

function statOrUndefined(file: string): { mtimeMs: number; size: number } | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

const asWasm = new WeakMap<LuaEntry, BuiltinWasmEntry>();

/** The entry as the loader and the WASI layer see it: the interpreter, run as a command. One per entry, so caches keyed by it hold. */
export function luaWasmEntry(entry: LuaEntry): BuiltinWasmEntry {
  const { file, hash } = interpreter();
  let wasm = asWasm.get(entry);
  if (wasm && wasm.hash === hash) return wasm;
  wasm = {
    id: entry.id,
    namespace: entry.namespace,
    name: entry.name,
    origin: entry.origin,
    meta: entry.meta,
    kind: "process.wasm",
    fs: "",
    path: "lua.wasm",
    file,
    hash,
    method: "_start",
    imports: [...INTERPRETER_IMPORTS],
    wasi: { ...entry.wasi, args: [] },
    limits: entry.limits,
  };
  if (entry.process) wasm.process = entry.process;
  asWasm.set(entry, wasm);
  return wasm;
}

/** The interpreter's argv (lua/main.c): entry name, chunk name, source, method, modules, arguments. */
export function luaArgv(entry: LuaEntry, registry: Registry, args: unknown[]): string[] {
  let json: string | undefined;
  try {
    json = JSON.stringify(args);
  } catch (err) {
    throw new ProcessError("spawn", `${entry.id}: the spawn arguments cannot cross into Lua as JSON (${(err as Error).message})`);
  }
  if (json === undefined) throw new ProcessError("spawn", `${entry.id}: the spawn arguments cannot cross into Lua as JSON`);
  // "@file" names the file in Lua's messages and tracebacks; "=id" names inline text
  const chunk = entry.file ? `@${path.relative(registry.src, entry.file)}` : `=${entry.id}`;
  return [entry.name, chunk, entry.source, entry.method ?? "", entry.modules.join(","), json];
}

/** lua/main.c ends every run with set-result {"ok": value} or {"error": "message and traceback"}. */
function envelope(value: unknown): { ok: unknown } | { error: string } | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  if ("ok" in value) return { ok: value.ok };
  if ("error" in value && typeof value.error === "string") return { error: value.error };
  return undefined;
}

export class LuaProcess extends WasmProcess {
  readonly luaEntry: LuaEntry;
  #error: string | undefined;

  constructor(deps: WasmProcessDeps, entry: LuaEntry, host: WasmHost, pid: string, parent: ActorParent) {
    super(deps, luaWasmEntry(entry), host, pid, parent, { kind: "lua", receives: entry.modules.includes("process") });
    this.luaEntry = entry;
  }

  override setResult(value: unknown): void {
    const out = envelope(value);
    if (out && "error" in out) this.#error = out.error;
    super.setResult(out && "ok" in out ? out.ok : null);
  }

  protected override outcome(result: ExitResult): ExitResult {
    if (this.#error !== undefined && "value" in result) return { error: { kind: "error", message: this.#error } };
    return result;
  }
}
