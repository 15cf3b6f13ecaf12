// Host imports for components: our own async Preview 2 host (src/wasi/p2), with the
// interfaces the entry grants and nothing else, and the process API when granted.

import { componentProcessImports } from "../guest/component-abi.ts";
import { interfaceGroup } from "../wasm/capabilities.ts";
import type { ComponentImportProvider } from "../wasm/component.ts";
import { createP2Imports } from "./p2/index.ts";

const unversioned = (s: string) => s.replace(/@[^/#]*$/, "");

export const componentImports: ComponentImportProvider = (io, requested) => {
  const imports = createP2Imports(io, requested);
  const guest = io.process; // present only when the entry grants wippy:process
  if (guest) {
    for (const name of requested) {
      if (interfaceGroup(name) !== "wippy:process") continue;
      const impl = componentProcessImports(guest);
      imports[name] = impl;
      imports[unversioned(name)] = impl;
    }
  }
  return imports;
};
