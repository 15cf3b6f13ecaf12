// Linear memories kept for reuse, per (initial, maximum) shape: reserving a fresh
// WebAssembly.Memory is most of what instantiating a small module costs. A memory comes
// back only from a process whose guest is no longer on the stack; a memory that grew is
// dropped. The pool is bounded in count and in bytes, and keeps only small memories.
//
// A memory is zeroed when it is taken, not when it is given back: no byte of one process
// is ever seen by the next, an exit never pays for the fill, and a memory nobody takes
// again is never zeroed at all.

const PAGE = 65_536;

/**
 * The largest memory the pool keeps: 64 pages (4 MiB). Zeroing costs about 1 ms per
 * 4 MiB on the event loop (measured on Node 24), roughly what a fresh memory costs to
 * reserve, so past this size reuse saves nothing, while a fresh memory comes zeroed from
 * the kernel page by page as the guest touches it. It still covers the usual starts: C
 * (wasi-sdk) modules begin at 2 pages, Rust ones at 17.
 */
export const LARGEST_POOLED_PAGES = 64;
/** Default bounds of one host's pool. */
export const DEFAULT_POOL_COUNT = 256;
export const DEFAULT_POOL_BYTES = 64 * 1024 * 1024;

/** What a pool of ended processes' leftovers (memories here, instances in instance-pool.ts) has done. */
export interface PoolStats {
  /** Handed out from the pool. */
  hits: number;
  /** Takes that found none (made new instead). */
  misses: number;
  /** Given back and kept. */
  returned: number;
  /** Given back and dropped: too large, grown, the pool full, or the process killed while its guest was on the stack. */
  dropped: number;
  /** In the pool now. */
  size: number;
  /** Bytes of the memories in the pool now. */
  bytes: number;
}

export type MemoryPoolStats = PoolStats;

export interface MemoryPoolBounds {
  /** How many memories the pool keeps at most (default 256). */
  count?: number;
  /** How many bytes of memory the pool keeps at most, across shapes (default 64 MiB). */
  bytes?: number;
}

export class MemoryPool {
  /** How many memories it keeps at most. */
  readonly capacity: number;
  /** How many bytes it keeps at most. */
  readonly maxBytes: number;
  readonly stats: MemoryPoolStats = { hits: 0, misses: 0, returned: 0, dropped: 0, size: 0, bytes: 0 };
  readonly #free = new Map<string, WebAssembly.Memory[]>();

  constructor(bounds: MemoryPoolBounds = {}) {
    this.capacity = bounds.count ?? DEFAULT_POOL_COUNT;
    this.maxBytes = bounds.bytes ?? DEFAULT_POOL_BYTES;
  }

  take(initial: number, maximum: number | undefined): WebAssembly.Memory {
    const memory = initial <= LARGEST_POOLED_PAGES ? this.#free.get(key(initial, maximum))?.pop() : undefined;
    if (memory) {
      this.stats.hits++;
      this.stats.size--;
      this.stats.bytes -= memory.buffer.byteLength;
      new Uint8Array(memory.buffer).fill(0);
      return memory;
    }
    this.stats.misses++;
    return new WebAssembly.Memory(maximum === undefined ? { initial } : { initial, maximum });
  }

  /** A memory that cannot come back (its guest may still run on it as its stack unwinds). */
  discard(): void {
    this.stats.dropped++;
  }

  /** Gives a memory back; call only once nothing can run on it any more. */
  give(memory: WebAssembly.Memory, initial: number, maximum: number | undefined): void {
    const size = memory.buffer.byteLength;
    const keep =
      size === initial * PAGE && initial <= LARGEST_POOLED_PAGES && this.stats.size < this.capacity && this.stats.bytes + size <= this.maxBytes;
    if (!keep) {
      this.stats.dropped++;
      return;
    }
    const k = key(initial, maximum);
    let free = this.#free.get(k);
    if (!free) this.#free.set(k, (free = []));
    free.push(memory);
    this.stats.returned++;
    this.stats.size++;
    this.stats.bytes += size;
  }
}

const key = (initial: number, maximum: number | undefined) => `${initial}:${maximum ?? ""}`;
