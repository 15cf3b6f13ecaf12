// Host imports for core modules: our own WASI preview1 layer, bound to one
// process. A module importing nothing gets nothing.

import { coreProcessImports, CORE_PROCESS_FUNCTIONS, PROCESS_MODULE } from "../guest/core-abi.ts";
import { ProcessError } from "../process/exit.ts";
import type { CoreInfo } from "../wasm/binary.ts";
import type { CoreImportProvider } from "../wasm/core.ts";
import { createPreview1Host, interfaceOfPreview1Function, Preview1Shared, WasiExit } from "./preview1/index.ts";

/** The capability a core module's import belongs to (`wasi:*` for preview1, `wippy:process`); undefined: not provided. */
export function coreImportGroup(module: string, fn: string): string | undefined {
  if (module === "wasi_snapshot_preview1" || module === "wasi_unstable") return interfaceOfPreview1Function(fn);
  if (module === PROCESS_MODULE) return CORE_PROCESS_FUNCTIONS.has(fn) ? "wippy:process" : undefined;
  return undefined;
}

const NONE = { imports: {}, suspends: false, bindMemory() {}, close() {} };

// Per entry and per module, not per process: a spawn should not rebuild them.
const grantedSets = new WeakMap<readonly string[], ReadonlySet<string>>();
const grantedOf = (imports: readonly string[]): ReadonlySet<string> => {
  let s = grantedSets.get(imports);
  if (!s) grantedSets.set(imports, (s = new Set(imports)));
  return s;
};
const neededSets = new WeakMap<CoreInfo, ReadonlySet<string>>();
const neededOf = (info: CoreInfo): ReadonlySet<string> => {
  let s = neededSets.get(info);
  if (!s) neededSets.set(info, (s = new Set(info.imports.filter((i) => i.module === "wasi_snapshot_preview1").map((i) => i.name))));
  return s;
};

const usesProcessApi = new WeakMap<CoreInfo, boolean>();
const processApiOf = (info: CoreInfo): boolean => {
  let v = usesProcessApi.get(info);
  if (v === undefined) usesProcessApi.set(info, (v = info.imports.some((i) => i.module === PROCESS_MODULE)));
  return v;
};

/** The core-module imports of one runtime: its processes share `shared` (file times, the wall clock's anchor). */
export const createCoreImports = (shared = new Preview1Shared()): CoreImportProvider => (io, info, wrapWaiting) => {
  if (info.imports.length === 0) return NONE;
  const needed = neededOf(info);
  // a guest of the process API alone gets no WASI host (no fd table, no stdio queues)
  const host = needed.size > 0 ? createPreview1Host({ io, granted: grantedOf(io.entry.imports), needed, shared, wrapWaiting }) : undefined;
  // the loader refused a module importing wippy:process without the grant; io.process is there
  const api = processApiOf(info) && io.process ? coreProcessImports(io.process, wrapWaiting) : undefined;
  // the host's own import object unless the process API joins it (no copy per spawn)
  const imports: WebAssembly.Imports = api ? { ...host?.imports, [PROCESS_MODULE]: api.imports as WebAssembly.ModuleImports } : (host?.imports ?? {});
  return {
    imports,
    suspends: true,
    bindMemory: (memory) => {
      host?.bindMemory(memory);
      api?.bindMemory(memory);
    },
    settle(err: unknown) {
      if (!(err instanceof WasiExit)) return undefined;
      // A WASI command that exits with 0 returns 0; any other status is an EXIT error of kind `exit`.
      if (err.code === 0) return { value: 0 };
      throw new ProcessError("exit", `exited with status ${err.code}`, { code: err.code });
    },
    close: () => void host?.close(),
  };
};
