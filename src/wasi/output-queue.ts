// A guest's output stream in front of its sink (a Stdio callback, a file, an HTTP
// body). Chunks reach the sink in order and one at a time: the next goes once the
// previous one's Promise settled. The bytes not yet delivered are counted, so a WASI
// layer can make the guest wait (backpressure) instead of the host buffering without
// bound: a slow sink slows its own process, never the runtime.

/** Takes one chunk; a Promise means "not delivered yet": the runtime waits for it. */
export type Sink = (chunk: Uint8Array) => unknown;

/** Bytes a stream may hold for its sink while the guest goes on without waiting (wasi:io `check-write`). */
export const OUTPUT_BUFFER = 64 * 1024;

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";

export class OutputQueue {
  readonly #sink: Sink;
  /** The last chunk's delivery; undefined when nothing is on its way. */
  #tail: Promise<void> | undefined;
  #pending = 0;
  #error: unknown;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  /** Bytes handed to `write` whose delivery has not finished. */
  get pending(): number {
    return this.#pending;
  }

  /** The sink's first failure (a throw or a rejection); chunks after it are dropped. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Hands `chunk` on. Returns undefined when the sink took it at once, else a Promise
   * that resolves once it was delivered. It never rejects: a failure lands in `error`.
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#error !== undefined || chunk.byteLength === 0) return undefined;
    if (this.#tail === undefined) {
      let r: unknown;
      try {
        r = this.#sink(chunk);
      } catch (err) {
        this.#fail(err);
        return undefined;
      }
      return isThenable(r) ? this.#track(Promise.resolve(r), chunk.byteLength) : undefined;
    }
    const send = () => (this.#error === undefined ? this.#sink(chunk) : undefined);
    return this.#track(this.#tail.then(send), chunk.byteLength);
  }

  /** Resolves once every chunk written so far was delivered (or failed). */
  drained(): Promise<void> {
    return this.#tail ?? Promise.resolve();
  }

  #track(delivery: Promise<unknown>, n: number): Promise<void> {
    this.#pending += n;
    const tail = delivery.then(
      () => {
        this.#pending -= n;
      },
      (err: unknown) => {
        this.#pending -= n;
        this.#fail(err);
      },
    );
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return tail;
  }

  #fail(err: unknown): void {
    this.#error ??= err ?? new Error("write failed");
  }
}
