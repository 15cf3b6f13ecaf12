// Instances kept for reuse, per program: the next process of a module takes an ended
// one's instance and resets it (its `__wippy_reset`, src/wasm/reset.ts) instead of
// instantiating, which is most of what a spawn of a small module costs. Only an instance
// whose guest returned normally comes back: one that trapped, was killed or stopped at a
// limit, or whose stack may still be suspended, is never offered. Like the memory pool,
// one per host (per thread on a worker), bounded in count per program and in bytes, and
// it keeps only memories up to LARGEST_POOLED_PAGES.
//
// An instance is reset when it is taken, not when it comes back: an exit never pays for
// the zeroing, and an instance nobody takes again is never reset at all.

import { LARGEST_POOLED_PAGES, type PoolStats } from "./memory-pool.ts";

const PAGE = 65_536;

/** Default bounds of one host's pool. */
export const DEFAULT_INSTANCES_PER_PROGRAM = 64;
export const DEFAULT_INSTANCE_BYTES = 32 * 1024 * 1024;

export type InstancePoolStats = PoolStats;

export interface InstancePoolBounds {
  /** How many idle instances of one program it keeps at most (default 64; 0 turns reuse off). */
  perProgram?: number;
  /** How many bytes of their memories it keeps at most, across programs (default 32 MiB). */
  bytes?: number;
}

/** What the pool needs of an instance: the bytes of its memory (0 without one). */
export interface Poolable {
  readonly bytes: number;
}

export class InstancePool<T extends Poolable = Poolable> {
  readonly perProgram: number;
  readonly maxBytes: number;
  readonly stats: InstancePoolStats = { hits: 0, misses: 0, returned: 0, dropped: 0, size: 0, bytes: 0 };
  readonly #idle = new Map<object, T[]>();

  constructor(bounds: InstancePoolBounds = {}) {
    this.perProgram = bounds.perProgram ?? DEFAULT_INSTANCES_PER_PROGRAM;
    this.maxBytes = bounds.bytes ?? DEFAULT_INSTANCE_BYTES;
  }

  /** An idle instance of `program`, or undefined; the caller resets it before use. */
  take<I extends T>(program: object): I | undefined {
    const instance = this.#idle.get(program)?.pop();
    if (!instance) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.stats.size--;
    this.stats.bytes -= instance.bytes;
    return instance as I;
  }

  /** A taken instance that could not serve after all (its imports could not be bound to the new process). */
  discard(): void {
    this.stats.dropped++;
  }

  /** How many idle instances of `program` it holds. */
  count(program: object): number {
    return this.#idle.get(program)?.length ?? 0;
  }

  /**
   * Offers the instance of a process whose guest returned normally; true when kept. Call
   * only once nothing can run on it any more.
   */
  give(program: object, instance: T): boolean {
    let idle = this.#idle.get(program);
    const keep =
      instance.bytes <= LARGEST_POOLED_PAGES * PAGE && (idle?.length ?? 0) < this.perProgram && this.stats.bytes + instance.bytes <= this.maxBytes;
    if (!keep) {
      this.stats.dropped++;
      return false;
    }
    if (!idle) this.#idle.set(program, (idle = []));
    idle.push(instance);
    this.stats.returned++;
    this.stats.size++;
    this.stats.bytes += instance.bytes;
    return true;
  }
}
