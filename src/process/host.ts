// A process host: a named group of processes with a capacity (SPEC section 3).

import { customAlphabet } from "nanoid";
import { createActor, type Actor, type InspectionEvent, type Observer } from "xstate";
import { hostMachine } from "../../machines/host.ts";
import type { Limits } from "../registry/types.ts";
import { ProcessError } from "./exit.ts";
import { MemoryPool, type MemoryPoolBounds } from "./memory-pool.ts";

const nanoid = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 12);

export class ProcessHost {
  readonly id: string;
  readonly maxProcesses: number;
  /** Default limits for processes on this host; an entry's own limits override them. */
  readonly limits: Limits;
  /** Instrumented with preemption points (the default); false for trusted CPU-bound work. */
  readonly preempt: boolean;
  /** Linear memories of this host's ended processes, zeroed, for the next ones. */
  readonly memoryPool: MemoryPool;
  #count = 0;
  /** The host as an actor, only when someone inspects: a spawn pays nothing for it otherwise. */
  readonly #actor: Actor<typeof hostMachine> | undefined;

  constructor(
    id: string,
    opts: {
      maxProcesses?: number;
      limits?: Limits;
      preempt?: boolean;
      /** How many memories, and how many bytes of them, the pool keeps (default 256 and 64 MiB). */
      memoryPool?: MemoryPoolBounds;
      inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
    } = {},
  ) {
    this.id = id;
    this.maxProcesses = opts.maxProcesses ?? Number.POSITIVE_INFINITY;
    this.limits = opts.limits ?? {};
    this.preempt = opts.preempt ?? true;
    this.memoryPool = new MemoryPool(opts.memoryPool);
    if (opts.inspect) {
      const capacity = Number.isFinite(this.maxProcesses) ? this.maxProcesses : null;
      this.#actor = createActor(hostMachine, { id, input: { id, capacity }, inspect: opts.inspect }).start();
    }
  }

  get count(): number {
    return this.#count;
  }

  /** Reserves a slot and returns a fresh pid, or throws if the host is full. */
  admit(): string {
    if (this.#count >= this.maxProcesses) {
      throw new ProcessError("spawn", `process host ${this.id} is full (max_processes: ${this.maxProcesses}); raise host.max_processes or wait for processes to end`);
    }
    this.#count++;
    const pid = `{${this.id}|${nanoid()}}`;
    this.#actor?.send({ type: "ADMIT", pid });
    return pid;
  }

  release(): void {
    this.#count--;
    this.#actor?.send({ type: "RELEASE" });
  }

  /** The runtime is closing. */
  close(): void {
    this.#actor?.send({ type: "CLOSE" });
  }
}
