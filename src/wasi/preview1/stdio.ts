// Stdin as the guest sees it: a buffer in front of `io.stdin`, so poll_oneoff
// can wait for data without consuming it and fd_read can answer at once when
// bytes are already there.

const EMPTY = new Uint8Array(0);

export class StdinReader {
  readonly #source: (() => Promise<Uint8Array | null>) | undefined;
  #buffer: Uint8Array = EMPTY;
  #eof: boolean;
  #pending: Promise<void> | undefined;

  constructor(source: (() => Promise<Uint8Array | null>) | undefined) {
    this.#source = source;
    // No stdin at all reads as an empty one.
    this.#eof = source === undefined;
  }

  /** True when a read would not wait. */
  get ready(): boolean {
    return this.#buffer.byteLength > 0 || this.#eof;
  }

  get available(): number {
    return this.#buffer.byteLength;
  }

  get eof(): boolean {
    return this.#eof && this.#buffer.byteLength === 0;
  }

  /** Resolves once a read would not wait. */
  async wait(): Promise<void> {
    while (!this.ready) await this.#fill();
  }

  /** Starts reading ahead without waiting (for non-blocking reads). */
  prefetch(): void {
    if (!this.ready) void this.#fill();
  }

  /** Takes up to `max` buffered bytes (empty at EOF or when nothing is buffered). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.#buffer.byteLength);
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  // One read of the source at a time, shared by everyone waiting.
  #fill(): Promise<void> {
    const source = this.#source;
    if (!source) {
      this.#eof = true;
      return Promise.resolve();
    }
    this.#pending ??= source()
      .then(
        (chunk) => {
          if (chunk === null) this.#eof = true;
          else if (chunk.byteLength > 0) this.#buffer = concat(this.#buffer, chunk);
        },
        () => {
          // A failing stdin ends input rather than failing the guest's read.
          this.#eof = true;
        },
      )
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b.slice();
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
