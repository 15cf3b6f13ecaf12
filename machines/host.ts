// A process host (a `process.host` entry) as a value: how many processes it holds
// against its capacity, open until the runtime closes. The host reports admissions
// and releases; the machine is what the Stately inspector shows for it.

import { assign, setup } from "xstate";
import type { ChildEndEvent } from "./runtime.ts";

export interface HostMachineInput {
  id: string;
  /** max_processes; null for no limit. */
  capacity: number | null;
}

export interface HostMachineContext extends HostMachineInput {
  processes: number;
  admitted: number;
}

export type HostMachineEvent =
  | { type: "ADMIT"; pid: string }
  /** An inspector attached: the count so far (admissions are not reported while nobody inspects). */
  | { type: "SYNC"; processes: number }
  | { type: "RELEASE" }
  | { type: "CLOSE" }
  | ChildEndEvent;

export const hostMachine = setup({
  types: {
    context: {} as HostMachineContext,
    events: {} as HostMachineEvent,
    input: {} as HostMachineInput,
  },
  guards: {
    full: ({ context }) => context.capacity !== null && context.processes >= context.capacity,
  },
}).createMachine({
  id: "process.host",
  context: ({ input }) => ({ ...input, processes: 0, admitted: 0 }),
  initial: "open",
  on: {
    // its processes' and supervisors' done/error events: handled, so a crashing child never errors the host
    "xstate.done.actor.*": {},
    "xstate.error.actor.*": {},
    SYNC: { actions: assign({ processes: ({ event }) => event.processes, admitted: ({ context, event }) => Math.max(context.admitted, event.processes) }) },
  },
  states: {
    open: {
      on: {
        ADMIT: { target: "open", actions: assign({ processes: ({ context }) => context.processes + 1, admitted: ({ context }) => context.admitted + 1 }) },
        RELEASE: { target: "open", actions: assign({ processes: ({ context }) => Math.max(0, context.processes - 1) }) },
        CLOSE: "closed",
      },
      always: { guard: "full", target: "full" },
    },
    full: {
      on: {
        RELEASE: { target: "open", actions: assign({ processes: ({ context }) => Math.max(0, context.processes - 1) }) },
        CLOSE: "closed",
      },
    },
    closed: { type: "final" },
  },
});

export type HostMachine = typeof hostMachine;
