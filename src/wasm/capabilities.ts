// Deny by default: a guest gets only the WASI interfaces its entry lists in
// `imports`. Checked once per entry at load, from the binary's import section,
// before anything is transpiled, instrumented or instantiated.

import type { WasiInterface } from "../registry/types.ts";
import type { Program } from "./program.ts";

/** `wasi:cli/stdout@0.2.3` → `wasi:cli`, `wippy:process/process@0.1.0` → `wippy:process`; other names → undefined. */
export function interfaceGroup(importName: string): string | undefined {
  const m = /^(wasi:[a-z0-9-]+|wippy:process)\//.exec(importName);
  return m?.[1];
}

export interface CapabilityCheck {
  /** For core modules: the capability an import (module, function) belongs to; undefined when the runtime does not provide it. */
  coreGroup: (module: string, fn: string) => string | undefined;
}

export interface CapabilityRefusal {
  /** One short line: the missing interfaces (or foreign imports) and how to fix it. */
  message: string;
  /** Every offending import by name, for WIPPY_LOG=debug. */
  details: string[];
}

/** How many names an error line shows before "and N more". */
const SHOWN = 3;

const sample = (names: readonly string[]) =>
  names.length > SHOWN ? `${names.slice(0, SHOWN).join(", ")} and ${names.length - SHOWN} more` : names.join(", ");

/**
 * Why a binary with these imports may not run under these grants, or undefined. Works on
 * the names alone (`Program.imports`, or `readImportNames` before anything is compiled).
 */
export function checkCapabilities(binary: Pick<Program, "kind" | "imports">, granted: readonly WasiInterface[], check: CapabilityCheck): CapabilityRefusal | undefined {
  const allowed = new Set<string>(granted);
  const denied = new Map<string, string[]>(); // group → its imports
  const unknown: string[] = [];
  for (const name of binary.imports) {
    let group: string | undefined;
    if (binary.kind === "core") {
      const dot = name.indexOf(".");
      group = check.coreGroup(name.slice(0, dot), name.slice(dot + 1));
    } else {
      group = interfaceGroup(name);
    }
    if (!group) unknown.push(name);
    else if (!allowed.has(group)) denied.set(group, [...(denied.get(group) ?? []), name]);
  }
  const more = "; WIPPY_LOG=debug lists every import";
  if (unknown.length > 0) {
    return { message: `imports ${sample(unknown)}, which this runtime does not provide${unknown.length > SHOWN ? more : ""}`, details: unknown };
  }
  if (denied.size > 0) {
    const list = [...denied.keys()].sort();
    return {
      message: `imports ${list.join(", ")} but the entry does not grant ${list.length === 1 ? "it" : "them"}; add ${list.map((g) => `"${g}"`).join(", ")} to the entry's imports`,
      details: list.flatMap((g) => denied.get(g)!.map((name) => `${name} (${g})`)),
    };
  }
  return undefined;
}
