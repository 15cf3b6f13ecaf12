// Per-kind validation: one located YAML entry in, one typed entry out.
// Validators always return an entry (with placeholders where fields were bad)
// so references to it still resolve and do not cascade into extra errors.
import * as path from "node:path";
import { FieldReader, readReference, report } from "./fields.ts";
import { isEnvName } from "./env.ts";
import type {
  CommandMeta,
  Entry,
  EntryId,
  EntryKind,
  EnvVariableEntry,
  FsDirectoryEntry,
  ProcessActorEntry,
  ProcessHostEntry,
  ProcessServiceEntry,
  ProcessSupervisorEntry,
  TerminalHostEntry,
} from "./types.ts";
import { readLimits, validateWasm } from "./wasm-kind.ts";
import { validateLua } from "./lua-kind.ts";
import { resolveFileUrl } from "./file-url.ts";
import {
  checkPlacement, checkRestart, checkStopTimeout, checkSupervisorSettings, DEFAULT_RESTART, DEFAULT_STOP_TIMEOUT_MS, RESTART_FIELDS, YAML_FIELD, type Checked,
} from "../../supervisors/rules.ts";

export type EntryBase = Pick<FsDirectoryEntry, "id" | "namespace" | "name" | "origin" | "meta">;

export const ENTRY_KINDS: readonly EntryKind[] = [
  "fs.directory",
  "process.wasm",
  "function.wasm",
  "process.host",
  "terminal.host",
  "env.variable",
  "process.service",
  "process.supervisor",
  "process.actor",
  "process.lua",
];

export function isEntryKind(kind: string): kind is EntryKind {
  return (ENTRY_KINDS as readonly string[]).includes(kind);
}

export interface KindInput {
  reader: FieldReader;
  base: EntryBase;
  /** Project root: relative directories resolve against it. */
  root: string;
  /** Source folder (absolute): `file://` modules must stay inside it. */
  src: string;
  command?: CommandMeta;
}

export function validateKind(kind: EntryKind, input: KindInput): Entry {
  const { reader, base } = input;
  switch (kind) {
    case "fs.directory":
      return validateFsDirectory(reader, base, input.root);
    case "process.wasm":
    case "function.wasm":
      return validateWasm(kind, reader, base, input.command);
    case "process.host":
      return validateProcessHost(reader, base);
    case "terminal.host":
      return validateTerminalHost(reader, base);
    case "env.variable":
      return validateEnvVariable(reader, base);
    case "process.service":
      return validateService(reader, base);
    case "process.supervisor":
      return validateSupervisor(reader, base);
    case "process.actor":
      return validateActor(reader, base, input.src);
    case "process.lua":
      return validateLua(reader, base, input.src, input.command);
  }
}

function validateFsDirectory(reader: FieldReader, base: EntryBase, root: string): FsDirectoryEntry {
  const node = reader.required("directory", "the host folder, relative to the project root (e.g. directory: ./wasm)");
  const directory = node === undefined ? undefined : reader.string("directory");
  return {
    ...base,
    kind: "fs.directory",
    directory: directory === undefined ? "" : path.resolve(root, directory),
    autoInit: reader.boolean("auto_init", false),
  };
}

function validateActor(reader: FieldReader, base: EntryBase, src: string): ProcessActorEntry {
  const entry: ProcessActorEntry = { ...base, kind: "process.actor", export: reader.string("export") ?? "default", limits: readLimits(reader) };
  const module = reader.string("module");
  if (module !== undefined) {
    const resolved = resolveFileUrl(module, base.origin.file, src, "module: file://actors/counter.ts", "module");
    if (typeof resolved === "string") entry.module = resolved;
    else reader.report("module", resolved.problem);
  }
  return entry;
}

function validateProcessHost(reader: FieldReader, base: EntryBase): ProcessHostEntry {
  const entry: ProcessHostEntry = { ...base, kind: "process.host", limits: readLimits(reader) };
  const host = reader.map("host");
  if (host !== undefined) {
    const positive = { integer: true, min: 1 };
    const workers = readWorkers(host);
    const maxProcesses = host.number("max_processes", positive);
    const queueSize = host.number("queue_size", positive);
    const preempt = host.boolean("preempt", true);
    if (!preempt) entry.preempt = false;
    if (workers !== undefined) entry.workers = workers;
    if (maxProcesses !== undefined) entry.maxProcesses = maxProcesses;
    if (queueSize !== undefined) entry.queueSize = queueSize;
    host.finish();
  }
  return entry;
}

/** `workers: N | auto` (section 8): 0, the default, keeps the host's processes on the main thread. */
function readWorkers(host: FieldReader): number | "auto" | undefined {
  const value = host.value("workers");
  if (value === undefined || value === "auto") return value;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  host.report("workers", `must be a whole number of worker threads (0 = the main thread) or auto (one per core), got ${JSON.stringify(value)}`);
  return undefined;
}

function validateTerminalHost(reader: FieldReader, base: EntryBase): TerminalHostEntry {
  return { ...base, kind: "terminal.host", hideLogs: reader.boolean("hide_logs", false) };
}

function validateEnvVariable(reader: FieldReader, base: EntryBase): EnvVariableEntry {
  const entry: EnvVariableEntry = { ...base, kind: "env.variable" };
  const variable = reader.string("variable");
  if (variable !== undefined) {
    if (isEnvName(variable)) entry.variable = variable;
    else reader.report("variable", `"${variable}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
  }
  const fallback = reader.string("default", { coerce: true, allowEmpty: true });
  if (fallback !== undefined) entry.default = fallback;
  return entry;
}

function validateService(reader: FieldReader, base: EntryBase): ProcessServiceEntry {
  const process = reader.reference("process", ["process.wasm", "process.lua", "process.actor"], "the process.wasm, process.lua or process.actor entry to run");
  const host = reader.reference("host", ["process.host"], "the process.host to run it on");
  const inputItems = reader.list("input", "arguments");
  const input = inputItems === undefined ? [] : (reader.plain("input") as unknown[]);
  const entry: ProcessServiceEntry = {
    ...base,
    kind: "process.service",
    process: process ?? "",
    host: host ?? "",
    input,
    autoStart: false,
    stopTimeout: DEFAULT_STOP_TIMEOUT_MS,
    restart: { ...DEFAULT_RESTART },
    placement: applyRules(reader, checkPlacement(reader.value("placement"))),
  };
  const lifecycle = reader.map("lifecycle");
  if (lifecycle !== undefined) {
    entry.autoStart = lifecycle.boolean("auto_start", false);
    entry.stopTimeout = applyRules(lifecycle, checkStopTimeout(lifecycle.value("stop_timeout")));
    const restart = lifecycle.map("restart");
    if (restart !== undefined) {
      const given = Object.fromEntries(RESTART_FIELDS.map((field) => [field, restart.value(YAML_FIELD[field])]));
      entry.restart = applyRules(restart, checkRestart(given));
      restart.finish();
    }
    lifecycle.finish();
  }
  return entry;
}

/** The checked value; each problem reported on its field, spelt as in YAML (the rules are shared with code). */
function applyRules<T>(reader: FieldReader, checked: Checked<T>): T {
  for (const problem of checked.problems) reader.report(YAML_FIELD[problem.field], problem.message);
  return checked.value;
}

function validateSupervisor(reader: FieldReader, base: EntryBase): ProcessSupervisorEntry {
  const settings = applyRules(reader, checkSupervisorSettings({ strategy: reader.value("strategy"), intensity: reader.value("intensity"), period: reader.value("period") }));
  const entry: ProcessSupervisorEntry = {
    ...base,
    kind: "process.supervisor",
    ...settings,
    children: readChildren(reader),
    autoStart: false,
  };
  const host = reader.reference("host", ["process.host"]);
  if (host !== undefined) entry.host = host;
  const lifecycle = reader.map("lifecycle");
  if (lifecycle !== undefined) {
    entry.autoStart = lifecycle.boolean("auto_start", false);
    lifecycle.finish();
  }
  return entry;
}

function readChildren(reader: FieldReader): EntryId[] {
  const children: EntryId[] = [];
  const items = reader.list("children", "entry IDs of process.service or process.supervisor entries") ?? [];
  items.forEach((item, index) => {
    const field = `${reader.field("children")}[${index}]`;
    const id = readReference(item, field, reader.ctx, ["process.service", "process.supervisor"]);
    if (id === undefined) return;
    if (children.includes(id)) {
      report(reader.ctx, item.line, field, `${id} is listed twice; list each child once`);
      return;
    }
    children.push(id);
  });
  return children;
}
