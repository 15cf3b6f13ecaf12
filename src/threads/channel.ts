// One side of a thread boundary: messages go out in batches (one postMessage per
// turn of the event loop, not one per message), in the order they were posted,
// and requests get their replies by id.

import { describeReason } from "../process/exit.ts";

/** A Worker, or a worker's parentPort. */
export interface Port {
  postMessage(value: unknown): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class Channel<Out> {
  readonly #port: Port;
  #outbox: Out[] = [];
  #scheduled = false;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed: Error | undefined;
  readonly #flush = (): void => this.flush();
  readonly #beforeFlush: (() => void) | undefined;

  /** `beforeFlush` may post what it has gathered (coalesced state) into the batch about to go. */
  constructor(port: Port, beforeFlush?: () => void) {
    this.#port = port;
    this.#beforeFlush = beforeFlush;
  }

  /** Messages waiting for their batch. */
  get queued(): number {
    return this.#outbox.length;
  }

  post(message: Out): void {
    if (this.#closed) return;
    this.#outbox.push(message);
    this.schedule();
  }

  /** A flush at the end of this turn (also for what `beforeFlush` gathers). */
  schedule(): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Posts the message `build` makes with a fresh id; settles when `settle(id, …)` is called for it. */
  request<T>(build: (id: number) => Out): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post(build(id));
    });
  }

  /** The reply to request `id` has come. */
  settle(id: number, error: Error | undefined, value?: unknown): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  flush(): void {
    this.#beforeFlush?.();
    this.#scheduled = false;
    if (this.#outbox.length === 0 || this.#closed) return;
    const batch = this.#outbox;
    this.#outbox = [];
    try {
      this.#port.postMessage(batch);
    } catch {
      // something in the batch cannot be cloned (a function in an exit value, a reason):
      // that part crosses as text, and the rest as it is
      this.#port.postMessage(batch.map((m) => cloneable(m)));
    }
  }

  /** The other side is gone: pending requests fail with `error`, later posts are dropped. */
  close(error: Error): void {
    this.#closed = error;
    this.#outbox = [];
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

/** `value` with whatever a structured clone refuses (functions, symbols, exotic objects) as text. */
export function cloneable(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? describeReason(value) : value;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof WebAssembly.Module) return value;
  if (Array.isArray(value)) return value.map(cloneable);
  if (value instanceof Error) return { name: value.name, message: value.message };
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneable(v);
    return out;
  }
  try {
    return structuredClone(value);
  } catch {
    return describeReason(value);
  }
}
