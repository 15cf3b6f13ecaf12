// What counts as TypeScript/XState logic for a process, in one place: spawnActor,
// supervisor children and named actor entries all check it with this.

import type { AnyActorLogic } from "xstate";

/** The kinds of logic accepted, as error messages name them. */
export const LOGIC_KINDS = "a machine, fromPromise, fromCallback, fromTransition, fromObservable or fromProcess";

/** XState v5 actor logic: an object with `transition` and `getInitialSnapshot` functions. */
export function isActorLogic(logic: unknown): logic is AnyActorLogic {
  const l = logic as { transition?: unknown; getInitialSnapshot?: unknown } | null;
  return typeof l === "object" && l !== null && typeof l.transition === "function" && typeof l.getInitialSnapshot === "function";
}
