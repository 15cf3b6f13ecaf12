// A process host: a named group of processes with a capacity (SPEC section 3),
// shown as a child of the runtime's root actor.

import type { Actor } from "xstate";
import type { HostMachine } from "../../machines/host.ts";
import type { Limits } from "../registry/types.ts";
import { actorKit } from "./actor-kit.ts";
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
  readonly #tree: ActorTree;
  #actor: Actor<HostMachine> | undefined;
  /** `actor`, as the parent of a process that makes its own actor only if someone inspects. */
  readonly parent = (): Actor<HostMachine> => this.actor;
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
    if (tree.started) void this.actor; // shown at once in a runtime that has actors
    // admissions are counted by the machine only while someone inspects: a spawn pays nothing for it otherwise
    tree.onAttach(() => this.actor.send({ type: "SYNC", processes: this.#count }));
  }

  /** The host's actor, under the runtime's root (processes and supervisors are shown beneath it), made when first needed. */
  get actor(): Actor<HostMachine> {
    if (this.#actor) return this.#actor;
    const { createActor, hostMachine } = actorKit();
    const capacity = Number.isFinite(this.maxProcesses) ? this.maxProcesses : null;
    this.#actor = this.#tree.track(createActor(hostMachine, { id: this.id, parent: this.#tree.root, input: { id: this.id, capacity } }));
    this.#actor.start();
    if (this.#tree.inspected) this.#actor.send({ type: "SYNC", processes: this.#count });
    return this.#actor;
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
    this.#actor?.send({ type: "CLOSE" });
  }
}
