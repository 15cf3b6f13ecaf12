// process.lua: Lua source (a file:// next to the definition file, or inline text)
// run on the runtime's Lua interpreter as a WASM guest (SPEC section 2).
import { readFileSync } from "node:fs";
import { FieldReader, readString, report, suggest } from "./fields.ts";
import { resolveFileUrl } from "./file-url.ts";
import { LUA_MODULES } from "./types.ts";
import type { CommandMeta, LuaEntry, LuaModule } from "./types.ts";
import { readLimits, readProcess, readWasi } from "./wasm-kind.ts";
import type { EntryBase } from "./kinds.ts";

/** The method is one Lua name (a field of the returned table, or a global). */
const LUA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateLua(reader: FieldReader, base: EntryBase, src: string, command: CommandMeta | undefined): LuaEntry {
  // read in the order the fields are usually written, so the errors come in that order
  const entry: LuaEntry = { ...base, kind: "process.lua", source: "", modules: [], wasi: { env: [], mounts: [] }, limits: {} };
  readSource(reader, entry, src);
  const method = reader.string("method");
  if (method !== undefined) {
    if (LUA_NAME.test(method)) entry.method = method;
    else reader.report("method", `"${method}" is not a Lua name (letters, digits and _, not starting with a digit)`);
  }
  entry.modules = readModules(reader);
  entry.wasi = readWasi(reader);
  entry.limits = readLimits(reader);
  if (entry.wasi.args !== undefined) {
    const wasi = reader.node.pairs.get("wasi")?.value;
    const line = wasi?.type === "map" ? (wasi.pairs.get("args")?.keyLine ?? wasi.line) : reader.node.line;
    report(reader.ctx, line, "wasi.args", "a process.lua entry takes no argv (the interpreter's arguments carry the chunk); pass values as spawn arguments");
    delete entry.wasi.args;
  }
  const process = readProcess(reader, entry.modules.includes("process"), 'add "process" to modules');
  if (process !== undefined) entry.process = process;
  if (command !== undefined) entry.command = command;
  return entry;
}

function readSource(reader: FieldReader, entry: LuaEntry, src: string): void {
  const node = reader.required("source", "file://<path> of the Lua file, relative to this definition file, or the Lua text itself");
  const value = node && readString(node, reader.field("source"), reader.ctx);
  if (value === undefined) return;
  if (!value.startsWith("file://")) {
    entry.source = value;
    return;
  }
  const resolved = resolveFileUrl(value, entry.origin.file, src, "source: file://worker.lua");
  if (typeof resolved !== "string") {
    reader.report("source", resolved.problem);
    return;
  }
  try {
    entry.source = readFileSync(resolved, "utf8");
    entry.file = resolved;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    reader.report("source", `cannot read ${resolved}: ${why}`);
  }
}

function readModules(reader: FieldReader): LuaModule[] {
  const modules: LuaModule[] = [];
  const items = reader.list("modules", `Lua module names (${LUA_MODULES.join(", ")})`) ?? [];
  items.forEach((item, index) => {
    const field = `${reader.field("modules")}[${index}]`;
    const value = readString(item, field, reader.ctx);
    if (value === undefined) return;
    if (!(LUA_MODULES as readonly string[]).includes(value)) {
      report(reader.ctx, item.line, field, `unknown module "${value}"${suggest(value, LUA_MODULES)}; this runtime's Lua modules: ${LUA_MODULES.join(", ")}`);
      return;
    }
    if (!modules.includes(value as LuaModule)) modules.push(value as LuaModule);
  });
  return modules;
}
