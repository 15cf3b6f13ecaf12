// Host imports for core modules: our own WASI preview1 layer, bound to one
// process. A module importing nothing gets nothing.

import { ProcessError } from "../process/exit.ts";
import type { CoreImportProvider } from "../wasm/core.ts";
import { createPreview1Host, interfaceOfPreview1Function, WasiExit } from "./preview1/index.ts";

export const preview1Group = interfaceOfPreview1Function;

const NONE = { imports: {}, suspends: false, bindMemory() {}, close() {} };

export const coreImports: CoreImportProvider = (io, info) => {
  if (info.imports.length === 0) return NONE;
  const host = createPreview1Host({ io, granted: new Set(io.entry.imports) });
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
