// `process: { spawn: [...] }`: the entries a guest holding the process API may
// spawn (SPEC section 7), deny by default. A pattern is an entry ID or `ns:*`,
// every entry of that one namespace (not of its dotted sub-namespaces). The rule
// lives here alone: the registry validates patterns with it and the host checks
// each spawn with it.

import { namespaceProblem } from "./ids.ts";

/** The kinds a guest may spawn. */
export const SPAWNABLE_KINDS = ["process.wasm", "process.lua", "process.actor"] as const;

/** `ns:*` → the namespace; an entry ID → undefined. */
export function wildcardNamespace(pattern: string): string | undefined {
  return pattern.endsWith(":*") ? pattern.slice(0, -2) : undefined;
}

/** Why a `ns:*` pattern is malformed, or undefined. */
export function wildcardProblem(pattern: string): string | undefined {
  const ns = wildcardNamespace(pattern);
  if (ns === undefined) return undefined;
  return namespaceProblem(ns);
}

/** May a guest with these patterns spawn entry `id`? */
export function maySpawn(patterns: readonly string[] | undefined, id: string): boolean {
  if (!patterns) return false;
  for (const p of patterns) {
    if (p === id) return true;
    const ns = wildcardNamespace(p);
    if (ns !== undefined && id.lastIndexOf(":") === ns.length && id.startsWith(ns)) return true;
  }
  return false;
}

/** The one line a refused spawn gives the guest. */
export function spawnRefusal(spawner: string, id: string): string {
  return `${spawner} may not spawn ${id}: add "${id}" (or "${id.slice(0, id.indexOf(":") + 1)}*") to its process.spawn`;
}
