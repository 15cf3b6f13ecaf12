// Deny by default: a guest gets only the WASI interfaces its entry lists in
// `imports`. Checked once per entry at load, before anything is instantiated.

import type { WasiInterface } from "../registry/types.ts";
import type { Program } from "./program.ts";

/** `wasi:cli/stdout@0.2.3` → `wasi:cli`; non-WASI names → undefined. */
export function interfaceGroup(importName: string): string | undefined {
  const m = /^(wasi:[a-z0-9-]+)\//.exec(importName);
  return m?.[1];
}

export interface CapabilityCheck {
  /** For core modules: the WASI group a preview1 function belongs to. */
  preview1Group: (fn: string) => string | undefined;
}

/** Returns a one-line reason the program may not run under these grants, or undefined. */
export function checkCapabilities(program: Program, granted: readonly WasiInterface[], check: CapabilityCheck): string | undefined {
  const allowed = new Set<string>(granted);
  const denied = new Set<string>();
  const unknown = new Set<string>();
  for (const name of program.imports) {
    let group: string | undefined;
    if (program.kind === "core") {
      const dot = name.indexOf(".");
      const module = name.slice(0, dot);
      if (module !== "wasi_snapshot_preview1" && module !== "wasi_unstable") {
        unknown.add(name);
        continue;
      }
      group = check.preview1Group(name.slice(dot + 1));
    } else {
      group = interfaceGroup(name);
    }
    if (!group) unknown.add(name);
    else if (!allowed.has(group)) denied.add(group);
  }
  if (unknown.size > 0) {
    return `imports ${[...unknown].join(", ")}, which this runtime does not provide`;
  }
  if (denied.size > 0) {
    const list = [...denied].sort();
    return `imports ${list.join(", ")} but the entry does not grant ${list.length === 1 ? "it" : "them"}; add ${list.map((g) => `"${g}"`).join(", ")} to the entry's imports`;
  }
  return undefined;
}
