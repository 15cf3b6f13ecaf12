// The lifecycle of a TypeScript/XState process: the user's logic is this
// machine's invoked child (`logic`), so the inspector shows it beneath the
// process, and its end is the process's EXIT. init → stepping ⇄ suspended →
// closed, the states every process has: stepping while the logic handles an
// event or runs, suspended while it waits for one.

import { assign, fromPromise, sendTo, setup, type AnyActorLogic, type AnyEventObject } from "xstate";
import { describeReason, type ExitResult } from "../src/process/exit.ts";

export interface ActorProcessInput {
  pid: string;
  entry: string | null;
  host: string;
  /** The input of the user's logic. */
  input: unknown;
}

export interface ActorProcessContext extends ActorProcessInput {
  exit: ExitResult | null;
}

export type ActorProcessEvent =
  /** The logic is started; it runs. */
  | { type: "STEP" }
  /** It waits for an event (or in `receive`). */
  | { type: "SUSPEND" }
  /** It runs again. */
  | { type: "RESUME" }
  /** An event from the mailbox for the logic: a message as `{ type: topic, from, payload }`, EXIT, LINK_DOWN, CANCEL as they are. */
  | { type: "DELIVER"; event: AnyEventObject }
  /** Ended from outside (terminate, a cancel timeout, a linked failure). */
  | { type: "CLOSE"; exit: ExitResult };

export const actorProcessMachine = setup({
  types: {
    context: {} as ActorProcessContext,
    events: {} as ActorProcessEvent,
    input: {} as ActorProcessInput,
    output: {} as ExitResult,
  },
  actors: {
    // provided per process: the user's logic
    logic: fromPromise<unknown, unknown>(async () => {
      throw new Error("actorProcessMachine: provide the logic actor");
    }) as AnyActorLogic,
  },
}).createMachine({
  id: "process",
  context: ({ input }) => ({ ...input, exit: null }),
  invoke: {
    id: "logic",
    src: "logic",
    input: ({ context }: { context: ActorProcessContext }) => context.input,
    onDone: { target: ".closed", actions: assign({ exit: ({ event }) => ({ value: event.output }) }) },
    onError: { target: ".closed", actions: assign({ exit: ({ event }) => ({ error: { kind: "error" as const, message: describeReason(event.error) } }) }) },
  },
  initial: "init",
  on: {
    DELIVER: { actions: sendTo("logic", ({ event }) => event.event) },
    CLOSE: { target: ".closed", actions: assign({ exit: ({ event }) => event.exit }) },
  },
  states: {
    init: { on: { STEP: "stepping" } },
    stepping: { on: { SUSPEND: "suspended" } },
    suspended: { on: { RESUME: "stepping" } },
    closed: { type: "final" },
  },
  output: ({ context }) => context.exit ?? { value: undefined },
});
