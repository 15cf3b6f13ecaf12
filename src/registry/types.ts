// The typed registry: what the YAML loader produces after validation.
// Every entry keeps where it came from so later errors (spawn, hash) can name it.

export interface Origin {
  /** Definition file, absolute path. */
  file: string;
  /** 1-based YAML line of the entry (or of the field, where known). */
  line: number;
}

export type EntryId = string; // "namespace:name"

interface EntryBase {
  id: EntryId;
  namespace: string;
  name: string;
  origin: Origin;
  meta: Record<string, unknown>;
}

export interface FsDirectoryEntry extends EntryBase {
  kind: "fs.directory";
  /** Absolute host path (resolved against the project root). */
  directory: string;
  autoInit: boolean;
}

export type WasiInterface =
  | "wasi:cli"
  | "wasi:io"
  | "wasi:clocks"
  | "wasi:filesystem"
  | "wasi:random"
  | "wasi:http"
  | "wasi:sockets"
  | "wippy:process";

export const WASI_INTERFACES: readonly WasiInterface[] = [
  "wasi:cli",
  "wasi:io",
  "wasi:clocks",
  "wasi:filesystem",
  "wasi:random",
  "wasi:http",
  "wasi:sockets",
  "wippy:process",
];

export interface WasiEnvBinding {
  /** ID of an env.variable entry (fully qualified). */
  id: EntryId;
  /** Variable name the guest sees. */
  name: string;
  required: boolean;
}

export interface WasiMount {
  /** ID of an fs.directory entry (fully qualified). */
  fs: EntryId;
  /** Absolute guest path. */
  guest: string;
  readOnly: boolean;
}

export interface WasiConfig {
  args?: string[];
  cwd?: string;
  env: WasiEnvBinding[];
  mounts: WasiMount[];
}

export interface Limits {
  maxExecutionMs?: number;
  maxMemory?: number;
  fuel?: number;
  /** Queued messages before `send` is refused (default DEFAULT_MAX_MAILBOX, 10 000). */
  maxMailbox?: number;
}

export interface HttpConfig {
  /**
   * `http.allow`: the destinations a wasi:http guest may reach, as written (host,
   * host:port, *.domain, IP or CIDR; see src/registry/http-allow.ts). Undefined: any
   * public address.
   */
  allow?: string[];
}

export interface CommandMeta {
  name: string;
  short?: string;
}

export interface WasmEntry extends EntryBase {
  kind: "process.wasm" | "function.wasm";
  /** ID of the fs.directory holding the binary (fully qualified). */
  fs: EntryId;
  path: string;
  /** Lower-case hex SHA-256 (without the "sha256:" prefix). */
  hash: string;
  method: string;
  imports: WasiInterface[];
  wasi: WasiConfig;
  limits: Limits;
  /** `http`: where a wasi:http guest may connect; absent when the entry has no `http:`. */
  http?: HttpConfig;
  /** `process.spawn`: entry IDs and `ns:*` patterns a guest with wippy:process may spawn (spawn-rights.ts); absent: none. */
  process?: { spawn: string[] };
  /** WIT hint, kept as given. */
  wit?: unknown;
  command?: CommandMeta;
}

/** The Lua modules a process.lua entry may `require` (SPEC section 2); `process` is the API of section 7. */
export const LUA_MODULES = ["process", "time"] as const;
export type LuaModule = (typeof LUA_MODULES)[number];

/** Lua 5.4 source run by the runtime's Lua interpreter (build/lua/lua.wasm) as a WASM guest. */
export interface LuaEntry extends EntryBase {
  kind: "process.lua";
  /** The Lua text (read from `file` at load when given as file://). */
  source: string;
  /** Absolute path of the source file; absent for inline text. */
  file?: string;
  /** The function to call (a field of the table the chunk returns, else a global); absent: the chunk's return value is the result. */
  method?: string;
  modules: LuaModule[];
  /** `env`, `cwd` and `mounts` (files only through mounts); no `args`: argv carries the chunk. */
  wasi: WasiConfig;
  limits: Limits;
  /** As on process.wasm: what it may spawn with the `process` module. */
  process?: { spawn: string[] };
  command?: CommandMeta;
}

export interface ProcessHostEntry extends EntryBase {
  kind: "process.host";
  /** Worker threads its WASM processes run on (section 8); absent or 0: the main thread; auto: one per core. */
  workers?: number | "auto";
  maxProcesses?: number;
  queueSize?: number;
  /** Default limits for processes on this host (an entry's own limits override them). */
  limits: Limits;
  /** host.preempt: false turns preemption points off (trusted CPU-bound work); default true. */
  preempt?: boolean;
}

export interface TerminalHostEntry extends EntryBase {
  kind: "terminal.host";
  hideLogs: boolean;
}

export interface EnvVariableEntry extends EntryBase {
  kind: "env.variable";
  /** OS variable to read; undefined → only the default. */
  variable?: string;
  default?: string;
}

export type RestartPolicy = "permanent" | "transient" | "temporary";

export interface RestartConfig {
  policy: RestartPolicy;
  /** ms */
  initialDelay: number;
  /** ms */
  maxDelay: number;
  backoffFactor: number;
  /** 0..1, fraction of the delay randomised */
  jitter: number;
  /** undefined = unlimited (intensity still applies) */
  maxAttempts?: number;
}

export interface ProcessServiceEntry extends EntryBase {
  kind: "process.service";
  process: EntryId;
  host: EntryId;
  input: unknown[];
  autoStart: boolean;
  /** ms */
  stopTimeout: number;
  restart: RestartConfig;
  /** Where it restarts when its node is down: `local` or `any` (section 9). */
  placement: "local" | "any";
}

/** TypeScript/XState logic as a process (SPEC 4.2). */
export interface ProcessActorEntry extends EntryBase {
  kind: "process.actor";
  /** Absolute path of the ES module holding the logic; absent when code registers it (`Runtime.open({ actors })`). */
  module?: string;
  /** The name of the logic's export in `module` (default `default`). */
  export: string;
  limits: Limits;
}

export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one";

export interface ProcessSupervisorEntry extends EntryBase {
  kind: "process.supervisor";
  host?: EntryId;
  strategy: Strategy;
  intensity: number;
  /** ms */
  period: number;
  children: EntryId[];
  autoStart: boolean;
}

export type Entry =
  | FsDirectoryEntry
  | WasmEntry
  | ProcessHostEntry
  | TerminalHostEntry
  | EnvVariableEntry
  | ProcessServiceEntry
  | ProcessSupervisorEntry
  | ProcessActorEntry
  | LuaEntry;

export type EntryKind = Entry["kind"];

export interface Registry {
  /** Project root: folder of wippy.lock, else the folder given. */
  root: string;
  /** Source folder the definition files were read from. */
  src: string;
  files: string[];
  entries: Map<EntryId, Entry>;
}
