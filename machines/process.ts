// The lifecycle of one WASM process: init → stepping ⇄ suspended → closed.
//
// The machine decides what happens on each event: `instantiate` once the
// binary is loaded, `run` once the instance exists, `free` when the process
// closes, whatever closed it. Those are named actions whose implementations the
// process driver (src/process/wasm-process.ts) provides; the machine itself
// knows no host API. An inspected process runs this machine as an actor; one
// nobody inspects steps through its transition table: this machine's transitions
// and action names as XState works them out (`deriveProcessTransitions`), written
// at build time to src/generated/process-transitions.ts (scripts/build-machines.ts),
// because an actor per process costs more than its WebAssembly instance, and a
// process that no one inspects should not need XState loaded at all.

import { assign, getInitialSnapshot, setup, transition } from "xstate";

export interface ProcessExit {
  value?: unknown;
  error?: { kind: string; message: string; code?: number; value?: unknown };
}

export interface ProcessMachineInput {
  pid: string;
  entry: string;
  host: string;
}

export interface ProcessMachineContext extends ProcessMachineInput {
  exit: ProcessExit | null;
}

export type ProcessMachineEvent =
  /** The binary is loaded (compiled and instrumented, or from the cache): instantiate it. */
  | { type: "LOADED" }
  /** Instantiated: the method runs. */
  | { type: "STEP" }
  /** The guest waits on host I/O (or yields its turn). */
  | { type: "SUSPEND" }
  /** The wait is over; the guest runs again. */
  | { type: "RESUME" }
  /** The process ended, whatever ended it: free what it holds. */
  | { type: "CLOSE"; exit: ProcessExit };

/** The driver's work, named by the machine. */
export type ProcessAction = "instantiate" | "run" | "free";

const provided = (name: ProcessAction) => () => {
  throw new Error(`processMachine: provide the ${name} action`);
};

export const processMachine = setup({
  types: {
    context: {} as ProcessMachineContext,
    events: {} as ProcessMachineEvent,
    input: {} as ProcessMachineInput,
    output: {} as ProcessExit,
  },
  actions: {
    instantiate: provided("instantiate"),
    run: provided("run"),
    free: provided("free"),
    recordExit: assign({
      exit: ({ event }) => (event.type === "CLOSE" ? event.exit : null),
    }),
  },
}).createMachine({
  id: "process",
  context: ({ input }) => ({ ...input, exit: null }),
  initial: "init",
  states: {
    init: {
      on: {
        LOADED: { actions: "instantiate" },
        STEP: { target: "stepping", actions: "run" },
        CLOSE: { target: "closed", actions: ["recordExit", "free"] },
      },
    },
    stepping: {
      on: {
        SUSPEND: "suspended",
        CLOSE: { target: "closed", actions: ["recordExit", "free"] },
      },
    },
    suspended: {
      on: {
        RESUME: "stepping",
        CLOSE: { target: "closed", actions: ["recordExit", "free"] },
      },
    },
    closed: { type: "final" },
  },
  output: ({ context }) => context.exit ?? {},
});

export type ProcessState = "init" | "stepping" | "suspended" | "closed";

export interface ProcessTransition {
  target: ProcessState;
  /** The driver's actions this transition runs, in order. */
  actions: readonly ProcessAction[];
}

/** Every state's transitions; an event with no entry is ignored, as the machine would ignore it. */
export type ProcessTransitionTable = Readonly<Record<ProcessState, Readonly<Partial<Record<ProcessMachineEvent["type"], ProcessTransition>>>>>;

const DRIVER_ACTIONS: ReadonlySet<string> = new Set<ProcessAction>(["instantiate", "run", "free"]);
const NO_INPUT: ProcessMachineInput = { pid: "", entry: "", host: "" };

/**
 * Every state's transitions with the driver actions they run, worked out by XState itself
 * (pure `transition` over every state and event).
 */
export function deriveProcessTransitions(): ProcessTransitionTable {
  const events: ProcessMachineEvent[] = [{ type: "LOADED" }, { type: "STEP" }, { type: "SUSPEND" }, { type: "RESUME" }, { type: "CLOSE", exit: {} }];
  const table = {} as Record<ProcessState, Partial<Record<ProcessMachineEvent["type"], ProcessTransition>>>;
  for (const state of ["init", "stepping", "suspended", "closed"] as const) {
    const from = processMachine.resolveState({ value: state, context: { ...NO_INPUT, exit: null } });
    table[state] = {};
    if (from.status === "done") continue;
    for (const event of events) {
      const [next, actions] = transition(processMachine, from, event);
      const driver = actions.map((a) => a.type).filter((t): t is ProcessAction => DRIVER_ACTIONS.has(t));
      if (next.value !== state || driver.length > 0) table[state][event.type] = { target: next.value as ProcessState, actions: driver };
    }
  }
  return table;
}

/** The initial state, as the machine says. */
export function deriveProcessInitialState(): ProcessState {
  return getInitialSnapshot(processMachine, NO_INPUT).value as ProcessState;
}
