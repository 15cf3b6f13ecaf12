// The end of one guest run, as the host side sees it, shared by a process and a
// `runtime.call`: once the run has ended (returned, killed, past a limit, aborted),
// pending host waits give up, its timers stop, and a guest resumed afterwards
// unwinds instead of running on.

/** The abort reason of every ended run (host waits give up on it; nothing reads it). */
const ENDED = new Error("the process has ended");

/** Raised inside a guest that is resumed after its run ended. */
export class ProcessEnded extends Error {}

export class GuestLifetime {
  /** Made when first asked for (a WASI wait, a timer): a run that never waits pays nothing. */
  #abort: AbortController | undefined;
  #ended = false;

  get ended(): boolean {
    return this.#ended;
  }

  /** Aborted when the run ends: host waits give up on it at once. */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#ended && !this.#abort.signal.aborted) this.#abort.abort(ENDED);
    return this.#abort.signal;
  }

  /** Ends the run; false when it had already ended (whoever ends it first decides the result). */
  end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.#abort?.abort(ENDED); // a reason of our own: abort() would build a DOMException per run
    return true;
  }

  /** For a guest about to run again after a wait or a yield: unwinds it if the run has ended meanwhile. */
  resume(who: string): void {
    if (this.#ended) throw new ProcessEnded(`${who} has ended`);
  }

  /** Runs `fn` after `ms` unless the run ends first (the timer is then cleared). */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(fn, ms);
    this.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }
}
