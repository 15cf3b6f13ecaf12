// What the process core sees of a loaded binary: something it can instantiate
// and call. Core modules and components both look like this; neither knows
// about pids, mailboxes or supervision.

import type { GuestProcess } from "../guest/process-host.ts";
import type { Budget } from "../process/budget.ts";
import type { InstancePool } from "../process/instance-pool.ts";
import type { MemoryPool } from "../process/memory-pool.ts";
import type { WasmEntry } from "../registry/types.ts";

/** The host side handed to one instance: its I/O and its WASI configuration. */
export interface ProcessIO {
  entry: WasmEntry;
  /** argv as the guest sees it (argv[0] is the entry's name). */
  argv: string[];
  /** Environment the guest sees (already resolved from env.variable entries). */
  env: Record<string, string>;
  /** Guest path → host directory, with read-only flags. */
  mounts: { guest: string; host: string; readOnly: boolean }[];
  cwd?: string;
  /** Guest output; a returned Promise means the sink is full: the guest waits for it where it can. */
  stdout: (chunk: Uint8Array) => void | Promise<void>;
  stderr: (chunk: Uint8Array) => void | Promise<void>;
  /** Reads stdin; null at end of input. */
  stdin?: () => Promise<Uint8Array | null>;
  /** Called around every host wait, so the process machine can show it. */
  onSuspend: () => void;
  /** Throws once the process has ended, so a guest resumed after a kill unwinds instead of running on. */
  onResume: () => void;
  /** Fuel, time and memory limits, charged by the instrumented guest. */
  budget: Budget;
  /** The guest yields the thread to the others (preemption, not a wait on the host). */
  onPreempt: () => void;
  /** Where a module whose memory is imported gets it (its host's pool); absent: a new one. */
  memoryPool?: MemoryPool;
  /** Where an ended process's instance waits for the next one (a module the reset rewrite qualified); absent: none is kept. */
  instancePool?: InstancePool;
  /** Aborted when the process ends (killed, cancelled, limit): pending host waits should give up at once. */
  signal?: AbortSignal;
  /** The process API (wippy:process), when the entry grants it. */
  process?: GuestProcess;
}

export interface Instance {
  /** Runs the entry's method. Synchronous guests return their value directly. */
  call(args: unknown[]): unknown;
  /** Bytes of linear memory in use (sum over the instance's memories). */
  memoryBytes(): number;
  /** Frees host resources (open files, timers); called once when the process ends. */
  dispose?(): void;
}

/**
 * A host function that may wait on the host (JSPI), as a binding hands it out: for a new
 * instance, `new WebAssembly.Suspending(fn)`; for a reused one, whose own trampolines
 * are already wrapped, `new Waiting(fn)` (a Suspending object cannot be called from JS).
 */
export type WrapWaiting = (fn: (...args: never[]) => unknown) => object;

/** A host function that may wait, unwrapped (see WrapWaiting). */
export class Waiting {
  readonly fn: (...args: unknown[]) => unknown;
  constructor(fn: (...args: never[]) => unknown) {
    this.fn = fn as (...args: unknown[]) => unknown;
  }
}

export const suspending: WrapWaiting = (fn) => new WebAssembly.Suspending(fn as (...args: unknown[]) => unknown);
export const waiting: WrapWaiting = (fn) => new Waiting(fn);

/** The host imports bound to one core instance. */
export interface CoreHostBinding {
  imports: WebAssembly.Imports;
  /** True when some import suspends (JSPI): the method is then called through WebAssembly.promising. */
  suspends: boolean;
  bindMemory(memory: WebAssembly.Memory): void;
  /** Turns a host-originated unwind (e.g. WASI proc_exit) into a return value or a ProcessError. */
  settle?(err: unknown): { value: unknown } | undefined;
  close(): void;
}

export interface Program {
  kind: "core" | "component";
  hash: string;
  /** Imports the binary asks for (core: "module.name"; component: interface names). */
  imports: string[];
  /** Names callable as `method`. */
  methods: string[];
  instantiate(io: ProcessIO): Instance | Promise<Instance>;
}

/**
 * A WASI command (`_start`, `wasi:cli/run#run`): spawn arguments become its
 * argv, not parameters, and it prints its own output.
 */
export function isWasiCommand(method: string): boolean {
  return method === "_start" || /^wasi:cli\/run(@[^#]*)?#run$/.test(method);
}
