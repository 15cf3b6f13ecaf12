// A process host: a named group of processes with a capacity (SPEC section 3),
// shown as a child of the runtime's root actor.

import { createActor, type Actor } from "xstate";
import { hostMachine } from "../../machines/host.ts";
import type { Limits } from "../registry/types.ts";
import type { ActorTree } from "./actor-tree.ts";
import { ProcessError } from "./exit.ts";
import { InstancePool, type InstancePoolBounds } from "./instance-pool.ts";
import { MemoryPool, type MemoryPoolBounds } from "./memory-pool.ts";
import { newPid } from "./pid.ts";

export class ProcessHost {
  readonly id: string;
  readonly maxProcesses: number;
  /** Default limits for processes on this host; an entry's own limits override them. */
  readonly limits: Limits;
  /** Instrumented with preemption points (the default); false for trusted CPU-bound work. */
  readonly preempt: boolean;
  /** Linear memories of this host's ended processes, zeroed, for the next ones. */
  readonly memoryPool: MemoryPool;
  /** Instances of this host's ended processes, for the next ones of the same module. */
  readonly instancePool: InstancePool;
  /** The host's actor, under the runtime's root; processes and supervisors are shown beneath it. */
  readonly actor: Actor<typeof hostMachine>;
  readonly #tree: ActorTree;
  #count = 0;
  readonly #newPid: (host: string) => string;

  constructor(
    id: string,
    tree: ActorTree,
    opts: {
      maxProcesses?: number;
      limits?: Limits;
      preempt?: boolean;
      /** How many memories, and how many bytes of them, the pool keeps (default 256 and 64 MiB). */
      memoryPool?: MemoryPoolBounds;
      /** How many idle instances per module, and how many bytes of them, the pool keeps (default 64 and 32 MiB). */
      instancePool?: InstancePoolBounds;
      /** Pids of this runtime (in a cluster they name its node). */
      newPid?: (host: string) => string;
    } = {},
  ) {
    this.id = id;
    this.#tree = tree;
    this.maxProcesses = opts.maxProcesses ?? Number.POSITIVE_INFINITY;
    this.limits = opts.limits ?? {};
    this.preempt = opts.preempt ?? true;
    this.memoryPool = new MemoryPool(opts.memoryPool);
    this.instancePool = new InstancePool(opts.instancePool);
    this.#newPid = opts.newPid ?? newPid;
    const capacity = Number.isFinite(this.maxProcesses) ? this.maxProcesses : null;
    this.actor = tree.track(createActor(hostMachine, { id, parent: tree.root, input: { id, capacity } }));
    this.actor.start();
    // admissions are counted by the machine only while someone inspects: a spawn pays nothing for it otherwise
    tree.onAttach(() => this.actor.send({ type: "SYNC", processes: this.#count }));
  }

  get count(): number {
    return this.#count;
  }

  /** Reserves a slot and returns a fresh pid (or `pid`, chosen by another node for a process it spawns here), or throws if the host is full. */
  admit(pid?: string): string {
    if (this.#count >= this.maxProcesses) {
      throw new ProcessError("spawn", `process host ${this.id} is full (max_processes: ${this.maxProcesses}); raise host.max_processes or wait for processes to end`);
    }
    this.#count++;
    pid ??= this.#newPid(this.id);
    if (this.#tree.inspected) this.actor.send({ type: "ADMIT", pid });
    return pid;
  }

  release(): void {
    this.#count--;
    if (this.#tree.inspected) this.actor.send({ type: "RELEASE" });
  }

  /** The runtime is closing. */
  close(): void {
    this.actor.send({ type: "CLOSE" });
  }
}
