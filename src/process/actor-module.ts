// The logic of named actors (`process.actor` entries, SPEC 2 and 4.2): given in
// code (`Runtime.open({ actors })`) or imported from the entry's `module`.
// Every problem is one line naming the entry, and the file and export where
// there is one; an actor entry left without logic stops the runtime from
// opening, as a registry error would.

import { stat } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import type { AnyActorLogic } from "xstate";
import { RegistryError, type RegistryIssue } from "../registry/errors.ts";
import type { ProcessActorEntry, Registry } from "../registry/types.ts";

import { isActorLogic, LOGIC_KINDS } from "./actor-logic.ts";

/** Imports `entry.module` and returns its export `entry.export`, checked to be actor logic. */
export async function loadActorLogic(entry: ProcessActorEntry): Promise<AnyActorLogic> {
  const file = entry.module;
  if (file === undefined) throw new Error(`${entry.id}: the process.actor entry has no module to load its logic from; give it module: file://<path>`);
  const exists = await stat(file).then((s) => s.isFile(), () => false);
  if (!exists) throw new Error(`${entry.id}: module ${file} does not exist; create it or fix module: in ${entry.origin.file}:${entry.origin.line}`);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new Error(`${entry.id}: could not import module ${file}: ${reason}`);
  }
  if (!(entry.export in namespace)) {
    const names = Object.keys(namespace);
    throw new Error(`${entry.id}: module ${file} has no export "${entry.export}" (it exports ${names.length > 0 ? names.join(", ") : "nothing"}); set export: to one of them`);
  }
  const logic = namespace[entry.export];
  if (!isActorLogic(logic)) {
    throw new Error(`${entry.id}: export "${entry.export}" of ${file} is not XState actor logic (${LOGIC_KINDS}); got ${describe(logic)}`);
  }
  return logic;
}

/**
 * The logic of every `process.actor` entry, by ID: `given` first, else the
 * entry's module. Throws on a key of `given` that is not an actor entry, on an
 * entry left without logic, and on a module that does not load.
 */
export async function resolveActors(registry: Registry, given: Record<string, AnyActorLogic> = {}): Promise<Record<string, AnyActorLogic>> {
  for (const [id, logic] of Object.entries(given)) {
    const entry = registry.entries.get(id);
    if (entry?.kind !== "process.actor") {
      const actors = actorEntries(registry).map((e) => e.id);
      const what = entry ? `is a ${entry.kind} entry` : "is not in the registry";
      throw new Error(`Runtime.open: actors["${id}"] ${what}; keys of actors must be process.actor entry IDs (${actors.length > 0 ? actors.join(", ") : "the registry has none"})`);
    }
    if (!isActorLogic(logic)) throw new Error(`Runtime.open: actors["${id}"] is not XState actor logic (${LOGIC_KINDS}); got ${describe(logic)}`);
  }
  const missing = actorsWithoutLogic(registry, new Set(Object.keys(given)), "code");
  if (missing.length > 0) throw new RegistryError(missing, registry.root);
  const logic: Record<string, AnyActorLogic> = { ...given };
  for (const entry of actorEntries(registry)) logic[entry.id] ??= await loadActorLogic(entry);
  return logic;
}

/**
 * Actor entries with neither a module nor logic given in code. From the CLI
 * (`wippy lint`, `wippy run`) nothing can be given in code, so the hint there
 * is the module alone.
 */
export function actorsWithoutLogic(registry: Registry, given: ReadonlySet<string>, from: "code" | "cli"): RegistryIssue[] {
  return actorEntries(registry)
    .filter((e) => e.module === undefined && !given.has(e.id))
    .map((e) => ({
      file: e.origin.file,
      line: e.origin.line,
      entry: e.id,
      message: from === "code"
        ? `the process.actor entry has no logic; give it a module (module: file://<path>) or pass it in Runtime.open({ actors: { "${e.id}": logic } })`
        : "the process.actor entry has no logic; give it a module (module: file://<path> of an ES module exporting the logic), the CLI cannot pass logic in code",
    }));
}

function actorEntries(registry: Registry): ProcessActorEntry[] {
  return [...registry.entries.values()].filter((e): e is ProcessActorEntry => e.kind === "process.actor");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function (wrap an async function in fromProcess)";
  if (typeof value === "object") return `an object with keys ${Object.keys(value).join(", ") || "(none)"}`;
  return `${typeof value} ${String(value)}`;
}
