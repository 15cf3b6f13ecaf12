// A supervisor as an XState machine: active (starting → running) → stopping →
// stopped.
//
// The context is immutable: the book (supervisors/bookkeeping.ts) is replaced
// with `assign` after every event, by the pure planning functions of
// supervisors/plan.ts and supervisors/child-requests.ts. Each step's effects —
// spawning children, stopping one, answering a child request — are the named
// actions `startChildren`, `stopChild` and `reply`, provided by src/supervision;
// spawning is synchronous, and its outcome comes back as one SPAWNED event the
// action sends to the actor itself (handled after the current step).
// Restart delays are delayed TICK events. Children are processes in the
// runtime's table: their ends arrive as EXIT events from the supervisor's
// mailbox, so the XState done/error events of any child actor are ignored and
// can never put the supervisor into an error state.

import { setup, type DoneActorEvent, type ErrorActorEvent } from "xstate";
import type { ExitError, ExitResult } from "../src/process/exit.ts";
import {
  isIdle, newBook, nextRestartAt, type Book, type ReplyParams, type StartChildrenParams, type Step, type StopChildParams, type SupervisorEmitted,
} from "../supervisors/bookkeeping.ts";
import { handleRequest, type ChildRequest } from "../supervisors/child-requests.ts";
import { plan, restartDue, shutdown, spawned, startAll, type SpawnResult } from "../supervisors/plan.ts";
import type { SupervisorSpec } from "../supervisors/spec.ts";

export interface SupervisorMachineInput {
  spec: SupervisorSpec;
  pid: string;
}

export interface SupervisorMachineContext {
  readonly pid: string;
  readonly book: Book;
  /** How the supervisor ends, once it is stopping. */
  readonly exit: ExitResult | null;
  /** When the armed restart timer fires, if one is armed. */
  readonly timerAt: number | null;
}

export type SupervisorMachineEvent =
  /** A monitored child ended (from the mailbox); `random` in [0, 1) spreads its backoff. */
  | { type: "EXIT"; pid: string; result: ExitResult; at: number; random: number }
  /** What a startChildren effect did: a pid, or the error of a child that could not even be spawned. */
  | { type: "SPAWNED"; results: SpawnResult[]; at: number; random: number }
  /** Restarts due at `at` (internal, delayed). */
  | { type: "TICK"; at: number }
  /** Orderly shutdown (CANCEL, runtime.close, the parent). */
  | { type: "STOP"; reason: string }
  /** Stop everything and exit with this error (e.g. a linked process failed). */
  | { type: "FAIL"; error: ExitError }
  /** Killed: its children were killed with it; it stops at once with this error. */
  | { type: "KILL"; error: ExitError }
  /** startChild, terminateChild, restartChild, deleteChild; answered by the `reply` action. */
  | ChildRequest
  /** A child actor's own end, relayed by XState: ignored (its EXIT is what counts). */
  | ErrorActorEvent
  | DoneActorEvent;

export type { SupervisorEmitted, StartChildrenParams, StopChildParams, ReplyParams, SpawnResult };

const TIMER = "restart-timer";

const withEffects = setup({
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
    reply: (_, _params: ReplyParams) => {
      throw new Error("supervisorMachine: provide the reply action");
    },
  },
  guards: {
    failing: ({ context }) => context.exit !== null,
    allStarted: ({ context }) => context.book.spawning === 0 && context.exit === null,
    idle: ({ context }) => isIdle(context.book),
  },
});

type Enqueue = Parameters<Parameters<typeof withEffects.enqueueActions>[0]>[0]["enqueue"];

/** Stores a planning step's book (and failure) and enqueues its effects in order. */
function apply(enqueue: Enqueue, step: Step): void {
  enqueue.assign({ book: step.book, ...(step.failure ? { exit: { error: step.failure } } : {}) });
  for (const effect of step.effects) {
    if (effect.type === "emit") enqueue.emit(effect.event);
    else enqueue(effect);
  }
}

export const supervisorMachine = withEffects
  .extend({
    actions: {
      startAll: withEffects.enqueueActions(({ context, enqueue }) => apply(enqueue, startAll(context.book))),
      childrenSpawned: withEffects.enqueueActions(({ context, event, enqueue }) => {
        if (event.type === "SPAWNED") apply(enqueue, spawned(context.book, event.results, event.at, event.random, false));
      }),
      /** While the supervisor starts, a child that cannot be spawned fails it. */
      initialChildrenSpawned: withEffects.enqueueActions(({ context, event, enqueue }) => {
        if (event.type === "SPAWNED") apply(enqueue, spawned(context.book, event.results, event.at, event.random, true));
      }),
      childDown: withEffects.enqueueActions(({ context, event, enqueue }) => {
        if (event.type === "EXIT") apply(enqueue, plan(context.book, { pid: event.pid, result: event.result, at: event.at, random: event.random }));
      }),
      restartDue: withEffects.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== "TICK") return;
        enqueue.assign({ timerAt: null });
        apply(enqueue, restartDue(context.book, event.at));
      }),
      request: withEffects.enqueueActions(({ context, event, enqueue }) => {
        if (event.type === "START_CHILD" || event.type === "TERMINATE_CHILD" || event.type === "RESTART_CHILD" || event.type === "DELETE_CHILD") {
          apply(enqueue, handleRequest(context.book, event));
        }
      }),
      beginShutdown: withEffects.enqueueActions(({ context, enqueue }) => {
        const reason = context.exit && "error" in context.exit ? context.exit.error.message : "stopped";
        apply(enqueue, shutdown(context.book, reason));
      }),
      /** Re-arms the restart timer when the next due time changed (events without a time change no timer). */
      armTimer: withEffects.enqueueActions(({ context, event, enqueue }) => {
        if (!("at" in event)) return;
        const next = nextRestartAt(context.book);
        if (next === context.timerAt) return;
        enqueue.cancel(TIMER);
        if (next !== null) enqueue.raise({ type: "TICK", at: next }, { id: TIMER, delay: Math.max(0, next - event.at) });
        enqueue.assign({ timerAt: next });
      }),
      cancelTimer: withEffects.enqueueActions(({ enqueue }) => {
        enqueue.cancel(TIMER);
        enqueue.assign({ timerAt: null });
      }),
      recordStop: withEffects.assign({
        exit: ({ event }) => ({ error: { kind: "cancelled", message: event.type === "STOP" ? event.reason : "stopped" } }),
      }),
      recordFailure: withEffects.assign({
        exit: ({ event }) => ({ error: event.type === "FAIL" ? event.error : { kind: "trap", message: "supervisor failed" } }),
      }),
      recordKill: withEffects.assign({
        exit: ({ event }) => ({ error: event.type === "KILL" ? event.error : { kind: "killed", message: "supervisor killed" } }),
      }),
    },
  })
  .createMachine({
    id: "supervisor",
    context: ({ input }) => ({ pid: input.pid, book: newBook(input.spec), exit: null, timerAt: null }),
    initial: "active",
    on: {
      // Children's ends arrive as EXIT from the mailbox; XState's relay of a child actor's end changes nothing.
      "xstate.error.actor.*": {},
      "xstate.done.actor.*": {},
      KILL: { target: ".stopped", actions: "recordKill" },
    },
    states: {
      active: {
        initial: "starting",
        // A step that gave up (intensity, max_attempts, a child that cannot start) set `exit`.
        always: { guard: "failing", target: "stopping" },
        on: {
          EXIT: { actions: ["childDown", "armTimer"] },
          SPAWNED: { actions: ["childrenSpawned", "armTimer"] },
          TICK: { actions: ["restartDue", "armTimer"] },
          START_CHILD: { actions: "request" },
          TERMINATE_CHILD: { actions: "request" },
          RESTART_CHILD: { actions: "request" },
          DELETE_CHILD: { actions: "request" },
          STOP: { target: "stopping", actions: "recordStop" },
          FAIL: { target: "stopping", actions: "recordFailure" },
        },
        states: {
          // Spawning is synchronous; a child that cannot be spawned at all fails the supervisor (as in OTP's init).
          starting: {
            entry: "startAll",
            always: { guard: "allStarted", target: "running" },
            on: { SPAWNED: { actions: "initialChildrenSpawned" } },
          },
          running: {},
        },
      },
      // Children stop in reverse start order, each awaited before the next.
      stopping: {
        entry: ["cancelTimer", "beginShutdown"],
        always: { guard: "idle", target: "stopped" },
        on: {
          EXIT: { actions: "childDown" },
          SPAWNED: { actions: "childrenSpawned" },
          START_CHILD: { actions: "request" },
          TERMINATE_CHILD: { actions: "request" },
          RESTART_CHILD: { actions: "request" },
          DELETE_CHILD: { actions: "request" },
        },
      },
      stopped: { type: "final" },
    },
    output: ({ context }) => context.exit ?? { error: { kind: "cancelled", message: "stopped" } },
  });

export type SupervisorState = "starting" | "running" | "stopping" | "stopped";

/** The supervisor's state from its snapshot's value. */
export function supervisorState(value: unknown): SupervisorState {
  if (value === "stopping" || value === "stopped") return value;
  return typeof value === "object" && value !== null && "active" in value && value.active === "starting" ? "starting" : "running";
}
