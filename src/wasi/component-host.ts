// WASI for components: our own async Preview 2 host (src/wasi/p2), with the
// interfaces the entry grants and nothing else.

import type { ComponentImportProvider } from "../wasm/component.ts";
import { createP2Imports } from "./p2/index.ts";

export const componentImports: ComponentImportProvider = (io, requested) => createP2Imports(io, requested);
