// A supervisor as a value: active (starting → running) → stopping → stopped.
//
// The machine routes events and owns the phases; the bookkeeping (which child
// restarts when, intensity, backoff) lives in supervisors/bookkeeping.ts and
// the effects — starting and stopping child processes — are injected by name
// (`startChildren`, `stopChild`) by src/supervision. Children are processes in
// the runtime's table, not XState child actors: their ends arrive as EXIT
// events from the supervisor's mailbox, so nothing depends on XState's own
// error propagation. Should anyone invoke an XState child here anyway, its
// `xstate.error.actor.*` is handled like any other failure.

import { assign, enqueueActions, setup } from "xstate";
import type { ExitError, ExitResult } from "../src/process/exit.ts";
import { SupervisorBook, describeExit, type ChildRef, type SupervisorClock } from "../supervisors/bookkeeping.ts";
import type { ChildSpec, SupervisorSpec } from "../supervisors/spec.ts";

export interface SupervisorMachineInput {
  spec: SupervisorSpec;
  pid: string;
  clock?: SupervisorClock;
}

export interface SupervisorMachineContext {
  pid: string;
  book: SupervisorBook;
  /** How the supervisor ends, once it is stopping. */
  exit: ExitResult | null;
}

export type SupervisorMachineEvent =
  /** A monitored child ended (from the mailbox). */
  | { type: "EXIT"; pid: string; result: ExitResult; at: number }
  /** A child could not even be spawned. */
  | { type: "CHILD_FAILED"; index: number; error: ExitError; at: number }
  /** A restart is due (internal, delayed). */
  | { type: "TICK" }
  /** Orderly shutdown (CANCEL, runtime.close, the parent). */
  | { type: "STOP"; reason: string }
  /** Stop everything and exit with this error (e.g. a linked process failed). */
  | { type: "FAIL"; error: ExitError }
  /** The children the last step asked for have been spawned (the effects ran). */
  | { type: "STARTED" };

export type ChildOutcome = "restart" | "ended" | "give-up" | "planned" | "shutdown";

export type SupervisorEmitted = {
  type: "child.exited";
  supervisor: string;
  child: string;
  pid: string;
  result: ExitResult;
  outcome: ChildOutcome;
  /** ms until the restart, for outcome `restart`. */
  delay?: number;
};

export interface StartChildrenParams {
  indices: number[];
}

export interface StopChildParams {
  index: number;
  pid: string;
  spec: ChildSpec;
  reason: string;
}

type Effect = { type: "startChildren"; params: StartChildrenParams } | { type: "stopChild"; params: StopChildParams };
// Actions declared in setup() cannot yet see each other's types; the effect names and params are checked here.
const effect = (e: Effect) => e as never;

const systemClock: SupervisorClock = { now: () => Date.now(), random: () => Math.random() };
const TIMER = "restart-timer";

type Down = { ref: ChildRef; result: ExitResult; at: number } | null;

function down(event: SupervisorMachineEvent): Down {
  if (event.type === "EXIT") return { ref: { pid: event.pid }, result: event.result, at: event.at };
  if (event.type === "CHILD_FAILED") return { ref: { index: event.index }, result: { error: event.error }, at: event.at };
  return null;
}

function assessKind(context: SupervisorMachineContext, event: SupervisorMachineEvent): string {
  const d = down(event);
  return d ? context.book.assess(d.ref, d.result, d.at).kind : "none";
}

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorMachineContext,
    events: {} as SupervisorMachineEvent,
    input: {} as SupervisorMachineInput,
    output: {} as ExitResult,
    emitted: {} as SupervisorEmitted,
  },
  actions: {
    // Effects, provided by the runtime glue (src/supervision).
    startChildren: (_, _params: StartChildrenParams) => {
      throw new Error("supervisorMachine: provide the startChildren action");
    },
    stopChild: (_, _params: StopChildParams) => {
      throw new Error("supervisorMachine: provide the stopChild action");
    },

    startAll: enqueueActions(({ context, enqueue }) => {
      const indices = context.book.initialStarts();
      if (indices.length > 0) enqueue(effect({ type: "startChildren", params: { indices } }));
    }),
    startDue: enqueueActions(({ context, enqueue }) => {
      const indices = context.book.takeDue(context.book.now);
      if (indices.length > 0) enqueue(effect({ type: "startChildren", params: { indices } }));
    }),
    /** Applies a child's end; a give-up records why the supervisor fails. */
    childDown: enqueueActions(({ context, event, enqueue }) => {
      const d = down(event);
      if (!d) return;
      const { book } = context;
      const a = book.assess(d.ref, d.result, d.at);
      if (a.kind === "stale") return;
      const pid = "pid" in d.ref ? d.ref.pid : "";
      const delay = book.apply(a, d.at);
      if (a.kind === "give-up") enqueue.assign({ exit: { error: a.error } });
      enqueue.emit({
        type: "child.exited", supervisor: book.spec.id, child: book.children[a.index]!.spec.id, pid, result: a.result, outcome: a.kind,
        ...(delay !== undefined ? { delay } : {}),
      });
    }),
    childDownInShutdown: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "EXIT") return;
      const index = context.book.downInShutdown({ pid: event.pid }, event.result);
      if (index === undefined) return;
      enqueue.emit({ type: "child.exited", supervisor: context.book.spec.id, child: context.book.children[index]!.spec.id, pid: event.pid, result: event.result, outcome: "shutdown" });
    }),
    /** Issues the next stop of the queue; one child at a time, latest started first. */
    stopNext: enqueueActions(({ context, enqueue }) => {
      const next = context.book.takeStop();
      if (!next) return;
      const reason = context.exit && "error" in context.exit ? context.exit.error.message : `restart by ${context.book.spec.id}`;
      enqueue(effect({ type: "stopChild", params: { ...next, reason } }));
    }),
    armTimer: enqueueActions(({ context, enqueue }) => {
      enqueue.cancel(TIMER);
      const wait = context.book.nextDueIn(context.book.now);
      if (wait !== null) enqueue.raise({ type: "TICK" }, { id: TIMER, delay: wait });
    }),
    cancelTimer: enqueueActions(({ enqueue }) => enqueue.cancel(TIMER)),
    beginShutdown: ({ context }) => context.book.shutdown(),
    recordStop: assign({
      exit: ({ event }) => ({ error: { kind: "cancelled", message: event.type === "STOP" ? event.reason : "stopped" } }) as ExitResult,
    }),
    recordFailure: assign({
      exit: ({ event }) => ({ error: event.type === "FAIL" ? event.error : { kind: "trap", message: "supervisor failed" } }) as ExitResult,
    }),
    recordStartFailure: assign({
      exit: ({ context, event }) => {
        if (event.type !== "CHILD_FAILED") return context.exit;
        const child = context.book.children[event.index]!.spec.id;
        return { error: { kind: "spawn", message: `${context.book.spec.id}: child ${child} could not start: ${event.error.message}` } } as ExitResult;
      },
    }),
    recordActorError: assign({
      exit: ({ event }) => ({ error: { kind: "trap", message: `supervisor actor error: ${String((event as { error?: unknown }).error)}` } }) as ExitResult,
    }),
  },
  guards: {
    stale: ({ context, event }) => assessKind(context, event) === "stale",
    givesUp: ({ context, event }) => assessKind(context, event) === "give-up",
    allStarted: ({ context }) => context.book.allStarted,
    idle: ({ context }) => context.book.idle,
  },
}).createMachine({
  id: "supervisor",
  context: ({ input }) => ({ pid: input.pid, book: new SupervisorBook(input.spec, input.clock ?? systemClock), exit: null }),
  initial: "active",
  states: {
    active: {
      initial: "starting",
      on: {
        EXIT: [
          { guard: "stale" },
          { guard: "givesUp", target: "stopping", actions: "childDown" },
          { actions: ["childDown", "stopNext", "armTimer"] },
        ],
        TICK: { actions: ["startDue", "armTimer"] },
        STOP: { target: "stopping", actions: "recordStop" },
        FAIL: { target: "stopping", actions: "recordFailure" },
        "xstate.error.actor.*": { target: "stopping", actions: "recordActorError" },
      },
      states: {
        // Spawning is synchronous; a child that cannot be spawned at all fails the supervisor (as in OTP's init).
        starting: {
          entry: "startAll",
          always: { guard: "allStarted", target: "running" },
          on: {
            CHILD_FAILED: { target: "#supervisor.stopping", actions: "recordStartFailure" },
            STARTED: { guard: "allStarted", target: "running" },
          },
        },
        running: {
          on: {
            CHILD_FAILED: [
              { guard: "stale" },
              { guard: "givesUp", target: "#supervisor.stopping", actions: "childDown" },
              { actions: ["childDown", "stopNext", "armTimer"] },
            ],
          },
        },
      },
    },
    // Children stop in reverse start order, each awaited before the next.
    stopping: {
      entry: ["cancelTimer", "beginShutdown", "stopNext"],
      always: { guard: "idle", target: "stopped" },
      on: {
        EXIT: { actions: ["childDownInShutdown", "stopNext"] },
      },
    },
    stopped: { type: "final" },
  },
  output: ({ context }) => context.exit ?? { error: { kind: "cancelled", message: "stopped" } },
});

export type SupervisorPhase = "starting" | "running" | "stopping" | "stopped";

/** The phase of a supervisor snapshot's value. */
export function supervisorPhase(value: unknown): SupervisorPhase {
  if (value === "stopping" || value === "stopped") return value;
  return (value as { active?: string })?.active === "starting" ? "starting" : "running";
}

export { describeExit };
