// WASI for components: the interfaces the entry grants, nothing else.
// (First cut on preview2-shim's per-instance WASIShim; exit is ours so a guest
// can never end the runtime's own Node process.)

import { WASIShim } from "@bytecodealliance/preview2-shim/instantiation";
import { ProcessError } from "../process/exit.ts";
import { interfaceGroup } from "../wasm/capabilities.ts";
import type { ComponentImportProvider } from "../wasm/component.ts";

const unversioned = (s: string) => s.replace(/@[^/]*$/, "");

export const componentImports: ComponentImportProvider = (io, requested) => {
  const granted = new Set<string>(io.entry.imports);
  const preopens: Record<string, string> = {};
  if (granted.has("wasi:filesystem")) for (const m of io.mounts) preopens[m.guest] = m.host;
  const shim = new WASIShim({
    sandbox: { preopens, env: io.env, args: io.argv, enableNetwork: granted.has("wasi:sockets") || granted.has("wasi:http") },
  } as ConstructorParameters<typeof WASIShim>[0]);
  const all = shim.getImportObject() as Record<string, unknown>;
  all["wasi:cli/exit"] = {
    exit(status: { tag: string }) {
      if (status.tag === "ok") throw new ProcessError("exit", "exited with status 0", { code: 0 });
      throw new ProcessError("exit", "exited with status 1", { code: 1 });
    },
    exitWithCode(code: number) {
      throw new ProcessError("exit", `exited with status ${code}`, { code });
    },
  };
  const imports: Record<string, unknown> = {};
  for (const name of requested) {
    const group = interfaceGroup(name);
    if (!group || !granted.has(group)) continue; // the loader refused these already
    const impl = all[unversioned(name)];
    if (impl) {
      imports[name] = impl;
      imports[unversioned(name)] = impl;
    }
  }
  return imports;
};
