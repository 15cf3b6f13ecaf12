// wasi:io — error, poll, streams. Streams sit on byte sources and sinks
// (stdin, files, HTTP bodies); every blocking call waits through the process's
// HostContext, so only this guest suspends.

import { OUTPUT_BUFFER, OutputQueue } from "../output-queue.ts";
import type { HostContext } from "./context.ts";

/** wasi:io/error `error`. `code` is a wasi:filesystem error-code when a file operation failed. */
export class IoError {
  readonly message: string;
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    this.message = message;
    this.code = code;
  }
  toDebugString(): string {
    return this.message;
  }
}

export type StreamError = { tag: "closed" } | { tag: "last-operation-failed"; val: IoError };

const CLOSED: StreamError = { tag: "closed" };
function failed(err: unknown): StreamError {
  const e = err as { message?: string; code?: string };
  return { tag: "last-operation-failed", val: new IoError(e.message ?? String(err), typeof e.code === "string" ? e.code : undefined) };
}

// ---- poll ----

export class Pollable {
  readonly #ctx: HostContext;
  readonly #ready: () => boolean;
  /** Resolves when the pollable may be ready (or on abort); callers re-check `ready`. */
  readonly #until: (signal: AbortSignal) => Promise<void>;

  constructor(ctx: HostContext, ready: () => boolean, until: (signal: AbortSignal) => Promise<void>) {
    this.#ctx = ctx;
    this.#ready = ready;
    this.#until = until;
  }

  ready(): boolean {
    return this.#ready();
  }

  async block(): Promise<void> {
    while (!this.#ready()) await this.#ctx.wait((signal) => this.#until(signal));
  }

  /** For `poll`: waits without going through the context (poll does that once for the list). */
  until(signal: AbortSignal): Promise<void> {
    return this.#ready() ? Promise.resolve() : this.#until(signal);
  }
}

export const readyPollable = (ctx: HostContext) => new Pollable(ctx, () => true, () => Promise.resolve());

/** wasi:io/poll#poll: the indices of the ready pollables, waiting until there is at least one. */
export async function poll(ctx: HostContext, list: Pollable[]): Promise<Uint32Array> {
  // The spec makes an empty list a trap: nothing could ever wake the guest.
  if (list.length === 0) throw new Error("wasi:io/poll#poll called with an empty list");
  for (;;) {
    const ready: number[] = [];
    list.forEach((p, i) => p.ready() && ready.push(i));
    if (ready.length > 0) return new Uint32Array(ready);
    await ctx.wait(async (signal) => {
      if (list.length === 1) return (list[0] as Pollable).until(signal);
      // The first pollable to wake ends the race; the others' timers go with `done`.
      const done = new AbortController();
      const stop = () => done.abort(null);
      signal.addEventListener("abort", stop, { once: true });
      try {
        await Promise.race(list.map((p) => p.until(done.signal)));
      } finally {
        signal.removeEventListener("abort", stop);
        done.abort(null); // a reason of our own: no DOMException to build
      }
    });
  }
}

/** Resolves at monotonic time `deadline` (ns), or early on abort. */
export function sleepUntil(deadline: bigint, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    // Node's timers run off a loop time that may lag hrtime, so one can fire a little
    // early: re-arm until the deadline has really passed. Capped at setTimeout's maximum.
    const arm = () => {
      const left = deadline - process.hrtime.bigint();
      if (left <= 0n) {
        signal.removeEventListener("abort", onAbort);
        return resolve();
      }
      timer = setTimeout(arm, Math.min(Number((left + 999_999n) / 1_000_000n), 2 ** 31 - 1));
    };
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    arm();
  });
}

// ---- input ----

/** Where an input stream's bytes come from. */
export interface ByteSource {
  /** The next chunk (at most `max` bytes where the source can honour it); null at the end. */
  pull(max: number): Promise<Uint8Array | null>;
  close?(): void;
}

const CHUNK = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** Buffers one source; several stream handles may share it (stdin). */
export class Reader {
  readonly #source: ByteSource;
  #buf: Uint8Array = EMPTY;
  #eof = false;
  #error: unknown;
  #pending: Promise<void> | undefined;

  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** Something to hand out without waiting: bytes, the end, or an error. */
  available(): boolean {
    return this.#buf.length > 0 || this.#eof || this.#error !== undefined;
  }

  /** Fetches the next chunk unless one is buffered or on its way. */
  fill(): Promise<void> {
    if (this.available()) return Promise.resolve();
    this.#pending ??= this.#source.pull(CHUNK).then(
      (chunk) => {
        if (chunk === null) this.#eof = true;
        else this.#buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
      },
      (err: unknown) => {
        this.#error = err ?? new Error("read failed");
      },
    ).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Up to `len` buffered bytes, possibly none; throws a stream-error at the end or after a failure. */
  take(len: number): Uint8Array {
    if (this.#buf.length > 0) {
      const out = this.#buf.subarray(0, len);
      this.#buf = this.#buf.subarray(out.length);
      return out;
    }
    if (this.#error !== undefined) throw failed(this.#error);
    if (this.#eof) throw CLOSED;
    return EMPTY;
  }

  close(): void {
    this.#source.close?.();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const clampLen = (len: bigint) => (len > BigInt(CHUNK) ? CHUNK : Number(len));

export class InputStream {
  readonly #ctx: HostContext;
  readonly #reader: Reader;
  readonly #owns: boolean;

  /** `owns`: dropping this stream closes the source (not so for shared stdin). */
  constructor(ctx: HostContext, reader: Reader, owns: boolean) {
    this.#ctx = ctx;
    this.#reader = reader;
    this.#owns = owns;
  }

  read(len: bigint): Uint8Array {
    if (len === 0n) return EMPTY;
    const out = this.#reader.take(clampLen(len));
    if (out.length === 0) void this.#reader.fill(); // start fetching for a later read
    return out;
  }

  async blockingRead(len: bigint): Promise<Uint8Array> {
    if (len === 0n) return EMPTY;
    if (!this.#reader.available()) await this.#ctx.wait(() => this.#reader.fill());
    return this.#reader.take(clampLen(len));
  }

  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }

  async blockingSkip(len: bigint): Promise<bigint> {
    return BigInt((await this.blockingRead(len)).length);
  }

  subscribe(): Pollable {
    return new Pollable(this.#ctx, () => this.#reader.available(), () => this.#reader.fill());
  }

  [Symbol.dispose](): void {
    if (this.#owns) this.#reader.close();
  }
}

// ---- output ----

/** Where an output stream's bytes go. A sink may finish a write at once (return void). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void> | void;
  close?(): void;
}

export class OutputStream {
  readonly #ctx: HostContext;
  readonly #queue: OutputQueue;
  readonly #close: (() => void) | undefined;
  #closed = false;

  /** Over a sink of its own, or over a queue that several handles share (stdout, stderr). */
  constructor(ctx: HostContext, sink: ByteSink | OutputQueue) {
    this.#ctx = ctx;
    if (sink instanceof OutputQueue) {
      this.#queue = sink;
    } else {
      this.#queue = new OutputQueue((bytes) => sink.write(bytes));
      this.#close = sink.close?.bind(sink);
    }
  }

  #check(): void {
    if (this.#queue.error !== undefined) throw failed(this.#queue.error);
    if (this.#closed) throw CLOSED;
  }

  checkWrite(): bigint {
    this.#check();
    return BigInt(Math.max(0, OUTPUT_BUFFER - this.#queue.pending));
  }

  write(contents: Uint8Array): void {
    this.#check();
    if (contents.length === 0) return;
    // One oversized write is the guest's own memory; writes piling up past check-write
    // while the sink is slow would be the host's, without bound.
    const pending = this.#queue.pending;
    if (pending > 0 && pending + contents.length > OUTPUT_BUFFER) {
      throw failed(new Error(`write of ${contents.length} bytes while ${pending} still wait for a slow reader: check-write allowed ${Math.max(0, OUTPUT_BUFFER - pending)}`));
    }
    this.#queue.write(contents);
    this.#check();
  }

  /** Writes are issued as they come, so there is nothing to start; errors surface here. */
  flush(): void {
    this.#check();
  }

  async blockingFlush(): Promise<void> {
    if (this.#queue.pending > 0) await this.#ctx.wait(() => this.#queue.drained());
    this.#check();
  }

  /** Waits until the sink took `contents` (and everything before it). */
  async blockingWriteAndFlush(contents: Uint8Array): Promise<void> {
    this.#check();
    const delivered = this.#queue.write(contents) ?? (this.#queue.pending > 0 ? this.#queue.drained() : undefined);
    if (delivered) await this.#ctx.wait(() => delivered);
    this.#check();
  }

  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(Number(len)));
  }

  async blockingWriteZeroesAndFlush(len: bigint): Promise<void> {
    await this.blockingWriteAndFlush(new Uint8Array(Number(len)));
  }

  splice(src: InputStream, len: bigint): bigint {
    this.#check();
    const n = BigInt(Math.min(Number(len), Number(this.checkWrite())));
    const bytes = src.read(n);
    this.write(bytes);
    return BigInt(bytes.length);
  }

  async blockingSplice(src: InputStream, len: bigint): Promise<bigint> {
    this.#check();
    const bytes = await src.blockingRead(len);
    await this.blockingWriteAndFlush(bytes);
    return BigInt(bytes.length);
  }

  /** Ready while check-write would allow something (or the stream has failed). */
  subscribe(): Pollable {
    return new Pollable(
      this.#ctx,
      () => this.#queue.pending < OUTPUT_BUFFER || this.#queue.error !== undefined,
      () => this.#queue.drained(),
    );
  }

  /** Marks the stream closed for its writer (e.g. an HTTP body that was finished). */
  markClosed(): void {
    this.#closed = true;
  }

  /** Resolves once every write so far has landed. */
  drained(): Promise<void> {
    return this.#queue.drained();
  }

  [Symbol.dispose](): void {
    this.#close?.();
  }
}

export function ioImports(ctx: HostContext): Record<string, Record<string, unknown>> {
  return {
    "wasi:io/error": { Error: IoError },
    "wasi:io/poll": { Pollable, poll: (list: Pollable[]) => poll(ctx, list) },
    "wasi:io/streams": { InputStream, OutputStream },
  };
}
