// The root of a runtime's actor system: hosts are its children, supervisors
// and processes their descendants, so the Stately inspector draws one tree.
// A child that ends or fails is its own business (its EXIT reaches those who
// asked); the root only outlives them.

import { setup } from "xstate";

export interface RuntimeMachineInput {
  /** The project root, shown in the inspector. */
  root: string;
}

/** Done and error events XState relays from a child actor to its parent. */
export type ChildEndEvent = { type: `xstate.done.actor.${string}`; output?: unknown } | { type: `xstate.error.actor.${string}`; error: unknown };

export type RuntimeMachineEvent = { type: "CLOSE" } | ChildEndEvent;

export const runtimeMachine = setup({
  types: {
    context: {} as RuntimeMachineInput,
    events: {} as RuntimeMachineEvent,
    input: {} as RuntimeMachineInput,
  },
}).createMachine({
  id: "runtime",
  context: ({ input }) => input,
  initial: "running",
  on: {
    // children's done/error events: handled, so a crashing child never errors the root
    "xstate.done.actor.*": {},
    "xstate.error.actor.*": {},
  },
  states: {
    running: { on: { CLOSE: "closed" } },
    closed: { type: "final" },
  },
});
