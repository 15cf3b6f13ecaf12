// Linear memories kept for reuse, per (initial, maximum) shape: reserving a fresh
// WebAssembly.Memory is most of what instantiating a small module costs. A memory comes
// back only from a process whose guest is no longer on the stack; it is zeroed before it
// is kept (no byte of one process is ever seen by the next), a memory that grew is
// dropped, and the pool holds at most `capacity` memories.

const PAGE = 65_536;

export interface MemoryPoolStats {
  /** Memories handed out from the pool. */
  hits: number;
  /** Memories made new (the pool had none of that shape). */
  misses: number;
  /** Memories given back and kept. */
  returned: number;
  /** Memories dropped: grown, the pool full, or their process killed while its guest was on the stack. */
  dropped: number;
  /** Memories in the pool now. */
  size: number;
}

export class MemoryPool {
  readonly capacity: number;
  readonly stats: MemoryPoolStats = { hits: 0, misses: 0, returned: 0, dropped: 0, size: 0 };
  readonly #free = new Map<string, WebAssembly.Memory[]>();

  constructor(capacity = 256) {
    this.capacity = capacity;
  }

  take(initial: number, maximum: number | undefined): WebAssembly.Memory {
    const free = this.#free.get(key(initial, maximum));
    const memory = free?.pop();
    if (memory) {
      this.stats.hits++;
      this.stats.size--;
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
    if (memory.buffer.byteLength !== initial * PAGE || this.stats.size >= this.capacity) {
      this.stats.dropped++;
      return;
    }
    new Uint8Array(memory.buffer).fill(0);
    const k = key(initial, maximum);
    let free = this.#free.get(k);
    if (!free) this.#free.set(k, (free = []));
    free.push(memory);
    this.stats.returned++;
    this.stats.size++;
  }
}

const key = (initial: number, maximum: number | undefined) => `${initial}:${maximum ?? ""}`;
