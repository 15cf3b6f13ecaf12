// process.wasm / function.wasm: a WebAssembly binary inside an fs.directory,
// its exported method, the WASI capabilities it may use and its limits.
import { FieldReader, readReference, readString, report, suggest } from "./fields.ts";
import { isEnvName } from "./env.ts";
import { parseAllowRule } from "./http-allow.ts";
import { SPAWNABLE_KINDS, wildcardNamespace, wildcardProblem } from "./spawn-rights.ts";
import { WASI_INTERFACES } from "./types.ts";
import type { CommandMeta, HttpConfig, Limits, WasiConfig, WasiEnvBinding, WasiInterface, WasiMount, WasmEntry } from "./types.ts";
import type { EntryBase } from "./kinds.ts";

const HASH = /^sha256:([0-9a-fA-F]{64})$/;

export function validateWasm(
  kind: WasmEntry["kind"],
  reader: FieldReader,
  base: EntryBase,
  command: CommandMeta | undefined,
): WasmEntry {
  const fs = reader.reference("fs", ["fs.directory"], "the fs.directory entry holding the binary (e.g. fs: myns:wasm_binaries)");
  const entry: WasmEntry = {
    ...base,
    kind,
    fs: fs ?? "",
    path: readBinaryPath(reader) ?? "",
    hash: readHash(reader) ?? "",
    method: readMethod(reader) ?? "",
    imports: readImports(reader, kind),
    wasi: readWasi(reader),
    limits: readLimits(reader),
  };
  const http = readHttp(reader);
  if (http !== undefined) entry.http = http;
  const process = readProcess(reader, entry.imports.includes("wippy:process"), 'add "wippy:process" to imports');
  if (process !== undefined) entry.process = process;
  const wit = reader.plain("wit");
  if (wit !== undefined) entry.wit = wit;
  if (command !== undefined) entry.command = command;
  return entry;
}

function readBinaryPath(reader: FieldReader): string | undefined {
  const node = reader.required("path", "the .wasm file inside the fs.directory (e.g. path: /worker.wasm)");
  const value = node && readString(node, reader.field("path"), reader.ctx);
  if (value === undefined || node === undefined) return undefined;
  if (value.split(/[\\/]/).includes("..")) {
    report(reader.ctx, node.line, reader.field("path"), `"${value}" must stay inside the fs.directory: remove ".." segments`);
    return undefined;
  }
  return value;
}

function readHash(reader: FieldReader): string | undefined {
  const node = reader.required("hash", "the binary's SHA-256 as sha256:<64 hex digits> (compute it with sha256sum)");
  const value = node && readString(node, reader.field("hash"), reader.ctx);
  if (value === undefined || node === undefined) return undefined;
  const match = HASH.exec(value.trim());
  if (match?.[1] === undefined) {
    report(
      reader.ctx,
      node.line,
      reader.field("hash"),
      `must be 'sha256:' followed by 64 hex digits (got "${value}"; compute it with sha256sum)`,
    );
    return undefined;
  }
  return match[1].toLowerCase();
}

function readMethod(reader: FieldReader): string | undefined {
  const node = reader.required("method", "the exported function to run (e.g. method: compute, or wasi:cli/run#run)");
  const value = node && readString(node, reader.field("method"), reader.ctx);
  if (value === undefined || node === undefined) return undefined;
  if (/\s/.test(value)) {
    report(reader.ctx, node.line, reader.field("method"), `"${value}" must not contain whitespace`);
    return undefined;
  }
  return value;
}

function readImports(reader: FieldReader, kind: WasmEntry["kind"]): WasiInterface[] {
  const items = reader.list("imports", "WASI interfaces") ?? [];
  const imports: WasiInterface[] = [];
  items.forEach((item, index) => {
    const field = `${reader.field("imports")}[${index}]`;
    const value = readString(item, field, reader.ctx);
    if (value === undefined) return;
    if (!(WASI_INTERFACES as readonly string[]).includes(value)) {
      const hint = suggest(value, WASI_INTERFACES);
      report(reader.ctx, item.line, field, `unknown interface "${value}"${hint}; valid: ${WASI_INTERFACES.join(", ")}`);
      return;
    }
    if (value === "wippy:process" && kind === "function.wasm") {
      report(reader.ctx, item.line, field, "wippy:process is the API of a process; a function.wasm entry has no pid or mailbox: make it a process.wasm entry");
      return;
    }
    if (!imports.includes(value as WasiInterface)) imports.push(value as WasiInterface);
  });
  return imports;
}

/**
 * process: { spawn: [<entry ID or ns:*>] } — what a guest holding the process API may spawn
 * (SPEC section 7); `granted`: the entry holds the API, else `grant` says how to give it.
 */
export function readProcess(parent: FieldReader, granted: boolean, grant: string): { spawn: string[] } | undefined {
  const reader = parent.map("process");
  if (reader === undefined) return undefined;
  const spawn: string[] = [];
  const items = reader.list("spawn", "entry IDs or ns:* patterns") ?? [];
  items.forEach((item, index) => {
    const field = `${reader.field("spawn")}[${index}]`;
    const value = readString(item, field, reader.ctx);
    if (value === undefined) return;
    if (wildcardNamespace(value) !== undefined) {
      const problem = wildcardProblem(value);
      if (problem) report(reader.ctx, item.line, field, problem);
      else spawn.push(value);
      return;
    }
    const id = readReference(item, field, reader.ctx, SPAWNABLE_KINDS);
    if (id !== undefined) spawn.push(id);
  });
  reader.finish();
  if (!granted) parent.report("process", `grants spawning, which needs the process API: ${grant}`);
  return { spawn };
}

/** http: { allow: [...] } — where a wasi:http guest may connect (SPEC section 2). */
function readHttp(parent: FieldReader): HttpConfig | undefined {
  const reader = parent.map("http");
  if (reader === undefined) return undefined;
  const config: HttpConfig = {};
  const items = reader.list("allow", "destinations (host, host:port, *.domain, IP or CIDR)");
  if (items !== undefined) {
    config.allow = [];
    items.forEach((item, index) => {
      const field = `${reader.field("allow")}[${index}]`;
      const value = readString(item, field, reader.ctx, { coerce: true });
      if (value === undefined) return;
      const parsed = parseAllowRule(value);
      if (parsed.ok) config.allow?.push(value.trim());
      else report(reader.ctx, item.line, field, parsed.message);
    });
  }
  reader.finish();
  return config;
}

export function readWasi(parent: FieldReader): WasiConfig {
  const config: WasiConfig = { env: [], mounts: [] };
  const reader = parent.map("wasi");
  if (reader === undefined) return config;
  const ctx = reader.ctx;
  const args = reader.list("args", "strings");
  if (args !== undefined) {
    config.args = [];
    args.forEach((item, index) => {
      const value = readString(item, `${reader.field("args")}[${index}]`, ctx, { coerce: true, allowEmpty: true });
      if (value !== undefined) config.args?.push(value);
    });
  }
  const cwdNode = reader.get("cwd");
  const cwd = cwdNode && readString(cwdNode, reader.field("cwd"), ctx);
  if (cwd !== undefined && cwdNode !== undefined) {
    if (cwd.startsWith("/")) config.cwd = cwd;
    else report(ctx, cwdNode.line, reader.field("cwd"), `must be an absolute guest path starting with "/" (got "${cwd}")`);
  }
  config.env = readEnvBindings(reader);
  config.mounts = readMounts(reader);
  reader.finish();
  return config;
}

function readEnvBindings(reader: FieldReader): WasiEnvBinding[] {
  const bindings: WasiEnvBinding[] = [];
  const seen = new Map<string, string>();
  const items = reader.list("env", "{id, name, required} mappings") ?? [];
  items.forEach((item, index) => {
    const field = `${reader.field("env")}[${index}]`;
    if (item.type !== "map") {
      report(reader.ctx, item.line, field, "must be a mapping {id, name, required}");
      return;
    }
    const binding = new FieldReader(item, reader.ctx, field);
    const id = binding.reference("id", ["env.variable"], "the env.variable entry providing the value");
    const nameNode = binding.required("name", "the variable name the guest sees (e.g. name: API_URL)");
    const name = nameNode && readString(nameNode, binding.field("name"), reader.ctx);
    const required = binding.boolean("required", false);
    binding.finish();
    if (name === undefined || nameNode === undefined || id === undefined) return;
    if (!isEnvName(name)) {
      report(reader.ctx, nameNode.line, binding.field("name"), `"${name}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
      return;
    }
    const previous = seen.get(name);
    if (previous !== undefined) {
      report(reader.ctx, nameNode.line, binding.field("name"), `variable ${name} is already bound by ${previous}`);
      return;
    }
    seen.set(name, field);
    bindings.push({ id, name, required });
  });
  return bindings;
}

function readMounts(reader: FieldReader): WasiMount[] {
  const mounts: WasiMount[] = [];
  const seen = new Map<string, string>();
  const items = reader.list("mounts", "{fs, guest, read_only} mappings") ?? [];
  items.forEach((item, index) => {
    const field = `${reader.field("mounts")}[${index}]`;
    if (item.type !== "map") {
      report(reader.ctx, item.line, field, "must be a mapping {fs, guest, read_only}");
      return;
    }
    const mount = new FieldReader(item, reader.ctx, field);
    const fs = mount.reference("fs", ["fs.directory"], "the fs.directory entry to mount");
    const guestNode = mount.required("guest", 'the absolute path the guest sees (e.g. guest: /data)');
    const guestRaw = guestNode && readString(guestNode, mount.field("guest"), reader.ctx);
    const readOnly = mount.boolean("read_only", false);
    mount.finish();
    if (guestRaw === undefined || guestNode === undefined || fs === undefined) return;
    const guest = normalizeGuestPath(guestRaw);
    if (guest === undefined) {
      report(reader.ctx, guestNode.line, mount.field("guest"), `must be an absolute guest path starting with "/" and without ".." (got "${guestRaw}")`);
      return;
    }
    const previous = seen.get(guest);
    if (previous !== undefined) {
      report(reader.ctx, guestNode.line, mount.field("guest"), `guest path ${guest} is already mounted by ${previous}; give each mount its own path`);
      return;
    }
    seen.set(guest, field);
    mounts.push({ fs, guest, readOnly });
  });
  return mounts;
}

/** "/data//x/" → "/data/x"; undefined when relative or using "..". */
function normalizeGuestPath(guest: string): string | undefined {
  if (!guest.startsWith("/")) return undefined;
  const parts = guest.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) return undefined;
  return "/" + parts.join("/");
}

/** limits: shared by wasm entries and process.host defaults. */
export function readLimits(parent: FieldReader): Limits {
  const limits: Limits = {};
  const reader = parent.map("limits");
  if (reader === undefined) return limits;
  const maxExecutionMs = reader.duration("max_execution_ms", true);
  if (maxExecutionMs !== undefined) limits.maxExecutionMs = maxExecutionMs;
  const maxMemory = reader.size("max_memory", true);
  if (maxMemory !== undefined) limits.maxMemory = maxMemory;
  const fuel = reader.number("fuel", { integer: true, min: 1 });
  if (fuel !== undefined) limits.fuel = fuel;
  const maxMailbox = reader.number("max_mailbox", { integer: true, min: 1 });
  if (maxMailbox !== undefined) limits.maxMailbox = maxMailbox;
  reader.finish();
  return limits;
}

