// The lifecycle of one WASM process as a value: init → stepping ⇄ suspended → closed.
//
// The machine only records where a process is; the process driver (src/process)
// does the work and reports it with events. That keeps the machine free of
// host APIs, cheap to create (no per-process closures or timers) and exactly
// what the Stately inspector shows.

import { assign, setup } from "xstate";

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
  /** Instantiated; the method starts running. */
  | { type: "STEP" }
  /** The guest waits on host I/O. */
  | { type: "SUSPEND" }
  /** The I/O is done; the guest runs again. */
  | { type: "RESUME" }
  /** The process ended, whatever ended it. */
  | { type: "CLOSE"; exit: ProcessExit };

export const processMachine = setup({
  types: {
    context: {} as ProcessMachineContext,
    events: {} as ProcessMachineEvent,
    input: {} as ProcessMachineInput,
    output: {} as ProcessExit,
  },
  actions: {
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
        STEP: "stepping",
        CLOSE: { target: "closed", actions: "recordExit" },
      },
    },
    stepping: {
      on: {
        SUSPEND: "suspended",
        CLOSE: { target: "closed", actions: "recordExit" },
      },
    },
    suspended: {
      on: {
        RESUME: "stepping",
        CLOSE: { target: "closed", actions: "recordExit" },
      },
    },
    closed: { type: "final" },
  },
  output: ({ context }) => context.exit ?? {},
});

export type ProcessState = "init" | "stepping" | "suspended" | "closed";
