// One process's side of the P2 host: its ProcessIO, and the one way the host
// waits. Every wait goes through `wait`, so the process machine sees it
// (stepping → suspended → stepping) and a process that ends stops waiting at once.

import type { ProcessIO } from "../../wasm/program.ts";

export class HostContext {
  readonly io: ProcessIO;
  readonly signal: AbortSignal;
  readonly #cleanups = new Set<() => void>();

  constructor(io: ProcessIO) {
    this.io = io;
    this.signal = io.signal ?? new AbortController().signal;
    // Open files and the like go when the process ends, however it ends.
    this.signal.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Runs `work` as a host wait: the guest is suspended (JSPI) until it settles. */
  async wait<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.io.onSuspend();
    try {
      if (this.signal.aborted) throw ended();
      return await abortable(work(this.signal), this.signal);
    } finally {
      // Throws if the process ended meanwhile, which unwinds the guest.
      this.io.onResume();
    }
  }

  /** Registers something to free when the process ends; returns its remover. */
  onClose(fn: () => void): () => void {
    this.#cleanups.add(fn);
    return () => this.#cleanups.delete(fn);
  }

  close(): void {
    for (const fn of this.#cleanups) {
      try {
        fn();
      } catch {
        // best effort: the process is gone
      }
    }
    this.#cleanups.clear();
  }
}

function ended(): Error {
  return new Error("the process ended while waiting on the host");
}

/** `p`, or a rejection as soon as `signal` aborts. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(ended());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(ended());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
