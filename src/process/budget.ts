// A process's CPU and memory budget, as the instrumented guest sees it. The guest
// counts fuel down on its own and calls `charge` each time a grant runs out; here
// we keep the total, check `fuel` and `max_execution_ms`, and decide when the
// guest has had its turn (a time quantum) and should let the others run.

import type { Limits } from "../registry/types.ts";
import { ProcessError } from "./exit.ts";

/** Units a guest runs between calls to the host. Small enough to keep the clock honest. */
export const SLICE = 10_000;
/** How long a guest runs before it yields the thread to the event loop and the other processes. */
export const QUANTUM_MS = 5;
const PAGE = 65_536;
/** Wasm32's 4 GiB: no memory can have more pages. */
const MAX_PAGES = 65_536;
/**
 * max_memory of an entry whose limits and host set none (SPEC section 2): an entry
 * without limits cannot take the machine's memory. Raise it per entry or host.
 */
export const DEFAULT_MAX_MEMORY = 256 * 1024 * 1024;

export function limitMessage(name: "max_execution_ms" | "fuel" | "max_memory", value: number | string, detail: string): string {
  return `${detail} (limit ${name}: ${value}); raise ${name} in the entry's limits or the process.host's defaults`;
}

export class Budget {
  readonly limits: Limits;
  /** Whole pages of linear memory the guest may reach. */
  readonly maxPages: number;
  #granted = 0;
  #startedAt = 0;
  #turnStartedAt = 0;
  /** It waited on the host since its turn began: its next turn starts at the next check. */
  #waited = false;

  constructor(limits: Limits) {
    this.limits = limits;
    this.maxPages = Math.min(MAX_PAGES, Math.floor((limits.maxMemory ?? DEFAULT_MAX_MEMORY) / PAGE));
  }

  /** The grant an instance starts with (its `wippy.fuel`), counted as handed out. */
  firstGrant(): number {
    const fuel = this.limits.fuel;
    const grant = fuel === undefined ? SLICE : Math.min(SLICE, fuel);
    this.#granted += grant;
    return grant;
  }

  /** The guest starts running (its step begins): the wall clock starts here. */
  start(now = performance.now()): void {
    this.#startedAt = now;
    this.#turnStartedAt = now;
  }

  /**
   * The guest's grant has run out: charge it, check the limits, hand out the next
   * grant (the guest's new counter; at least 1, so a loop always moves on).
   */
  charge(now = performance.now()): number {
    const { fuel, maxExecutionMs } = this.limits;
    if (maxExecutionMs !== undefined && now - this.#startedAt > maxExecutionMs) throw this.timeLimit();
    let grant = SLICE;
    if (fuel !== undefined) {
      if (this.#granted >= fuel) throw new ProcessError("limit", limitMessage("fuel", fuel, "ran out of fuel"));
      grant = Math.min(SLICE, fuel - this.#granted);
    }
    this.#granted += grant;
    return grant;
  }

  /** True when the guest has had its quantum and should give the thread up. */
  turnIsOver(now = performance.now()): boolean {
    if (this.#waited) {
      this.#waited = false;
      this.#turnStartedAt = now;
      return false;
    }
    return now - this.#turnStartedAt >= QUANTUM_MS;
  }

  /** The guest waits on the host (a WASI wait, a receive): it has let the others run, so its turn ends (no clock read here). */
  waited(): void {
    this.#waited = true;
  }

  /** The guest runs again after yielding. */
  resumed(now = performance.now()): void {
    this.#turnStartedAt = now;
  }

  timeLimit(): ProcessError {
    const ms = this.limits.maxExecutionMs ?? 0;
    return new ProcessError("limit", limitMessage("max_execution_ms", ms, `ran longer than ${ms} ms`));
  }

  /** Throws the max_memory limit when `pages` of linear memory are more than it allows. */
  checkPages(pages: number): void {
    const over = pages - this.maxPages;
    if (over > 0) throw this.#maxMemoryError(`needed ${over} more page${over === 1 ? "" : "s"} of memory than max_memory allows`);
  }

  /** A `memory.grow` by `delta` pages would pass max_memory. */
  growLimit(delta: number): ProcessError {
    return this.#maxMemoryError(`tried to grow its memory by ${delta} page${delta === 1 ? "" : "s"}, past max_memory`);
  }

  #maxMemoryError(detail: string): ProcessError {
    return new ProcessError("limit", limitMessage("max_memory", this.limits.maxMemory ?? `${DEFAULT_MAX_MEMORY}, the default`, detail));
  }
}
