// Host imports for core modules: our own WASI preview1 layer, bound to one
// process. A module importing nothing gets nothing.

import { ProcessError } from "../process/exit.ts";
import type { CoreInfo } from "../wasm/binary.ts";
import type { CoreImportProvider } from "../wasm/core.ts";
import { createPreview1Host, interfaceOfPreview1Function, WasiExit } from "./preview1/index.ts";

export const preview1Group = interfaceOfPreview1Function;

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

export const coreImports: CoreImportProvider = (io, info) => {
  if (info.imports.length === 0) return NONE;
  const host = createPreview1Host({ io, granted: grantedOf(io.entry.imports), needed: neededOf(info) });
  return {
    imports: host.imports,
    suspends: true,
    bindMemory: (memory) => host.bindMemory(memory),
    settle(err: unknown) {
      if (!(err instanceof WasiExit)) return undefined;
      // A WASI command that exits with 0 returns 0; any other status is an EXIT error of kind `exit`.
      if (err.code === 0) return { value: 0 };
      throw new ProcessError("exit", `exited with status ${err.code}`, { code: err.code });
    },
    close: () => void host.close(),
  };
};
