// A supervisor's restart bookkeeping, in one place: its children's records,
// the intensity window, the stop queue and the restart schedule. The machine
// (machines/supervisor.ts) decides *when* to call these; this decides *what*
// happens. Records are mutable so each event costs O(1) even with 10 000
// children; only the supervisor's own actor touches them.

import type { ExitError, ExitResult } from "../src/process/exit.ts";
import { attemptsExhausted, backoffDelay, nextAttempt } from "./backoff.ts";
import { addRestart, wouldExceed } from "./intensity.ts";
import { shouldRestart } from "./restart-policy.ts";
import type { ChildSpec, SupervisorSpec } from "./spec.ts";
import { planRestart } from "./strategies.ts";

/** starting: start issued, not confirmed · restarting: waiting out its backoff (pid null) · stopped: ended for good. */
export type ChildState = "starting" | "running" | "stopping" | "restarting" | "stopped";

export interface ChildInfo {
  id: string;
  pid: string | null;
  state: ChildState;
  restarts: number;
}

export interface ChildRecord {
  readonly spec: ChildSpec;
  pid: string | null;
  state: ChildState;
  restarts: number;
  /** Consecutive restarts since the child last ran stably (the backoff exponent). */
  attempts: number;
  startedAt: number;
  /** When a `restarting` child is started again. */
  dueAt: number;
  /** Stopped by a restart plan: comes back once it is gone. */
  rejoin: boolean;
  previousPid: string | null;
  lastExit: ExitResult | null;
}

export interface SupervisorClock {
  now(): number;
  random(): number;
}

export type ChildRef = { pid: string } | { index: number };

export type Assessment =
  | { kind: "stale" }
  /** A child the supervisor was stopping. */
  | { kind: "planned"; index: number; result: ExitResult }
  /** Ended on its own; its restart type says it stays down. */
  | { kind: "ended"; index: number; result: ExitResult }
  | { kind: "restart"; index: number; result: ExitResult; attempt: number }
  /** Intensity or max_attempts exceeded: the supervisor fails with `error`. */
  | { kind: "give-up"; index: number; result: ExitResult; error: ExitError };

export function describeExit(result: ExitResult): string {
  return "error" in result ? `${result.error.kind}: ${result.error.message}` : `normal exit (${JSON.stringify(result.value) ?? "undefined"})`;
}

export class SupervisorBook {
  readonly spec: SupervisorSpec;
  readonly children: ChildRecord[];
  readonly #clock: SupervisorClock;
  readonly #byPid = new Map<string, number>();
  #window: number[] = [];
  /** Indices to stop, popped from the end (so the latest started goes first). */
  #stopQueue: number[] = [];
  /** The child whose stop was issued and whose EXIT we wait for: one at a time, as OTP does. */
  #awaiting: number | null = null;
  readonly #due = new Set<number>();

  constructor(spec: SupervisorSpec, clock: SupervisorClock) {
    this.spec = spec;
    this.#clock = clock;
    this.children = spec.children.map((s) => ({
      spec: s, pid: null, state: "starting", restarts: 0, attempts: 0, startedAt: 0, dueAt: 0, rejoin: false, previousPid: null, lastExit: null,
    }));
  }

  get now(): number {
    return this.#clock.now();
  }

  /** Indices to start first, in order. */
  initialStarts(): number[] {
    return this.children.map((_, i) => i);
  }

  get allStarted(): boolean {
    return !this.children.some((c) => c.state === "starting");
  }

  started(index: number, pid: string, at: number): void {
    const c = this.children[index]!;
    c.pid = pid;
    c.state = "running";
    c.startedAt = at;
    this.#byPid.set(pid, index);
  }

  /** What an EXIT (or a failed start, by index) means; no side effects, so guards can ask. */
  assess(ref: ChildRef, result: ExitResult, at: number): Assessment {
    const index = "pid" in ref ? this.#byPid.get(ref.pid) : ref.index;
    if (index === undefined) return { kind: "stale" };
    const c = this.children[index]!;
    if ("index" in ref && c.state !== "starting") return { kind: "stale" };
    if (c.state === "stopping") return { kind: "planned", index, result };
    const cfg = c.spec.restart;
    if (!shouldRestart(cfg.policy, result)) return { kind: "ended", index, result };
    const { intensity, period, id } = this.spec;
    if (wouldExceed(this.#window, at, intensity, period)) {
      const message = `${id}: more than ${intensity} restart${intensity === 1 ? "" : "s"} within ${period} ms; last: ${c.spec.id} ${describeExit(result)}`;
      return { kind: "give-up", index, result, error: { kind: "limit", message } };
    }
    const attempt = nextAttempt(cfg, c.attempts, c.state === "running" ? at - c.startedAt : 0);
    if (attemptsExhausted(cfg, attempt)) {
      const message = `${id}: child ${c.spec.id} failed again after ${cfg.maxAttempts} restart attempt${cfg.maxAttempts === 1 ? "" : "s"} (max_attempts); last: ${describeExit(result)}`;
      return { kind: "give-up", index, result, error: { kind: "limit", message } };
    }
    return { kind: "restart", index, result, attempt };
  }

  /** Carries out an assessment; returns the restart delay for `restart`. */
  apply(a: Assessment, at: number): number | undefined {
    if (a.kind === "stale") return undefined;
    const c = this.children[a.index]!;
    this.#gone(a.index, a.result);
    if (a.kind === "planned") {
      if (c.rejoin) this.#schedule(a.index, c.dueAt);
      else c.state = "stopped";
      c.rejoin = false;
      return undefined;
    }
    c.state = "stopped";
    if (a.kind !== "restart") return undefined;
    this.#window = addRestart(this.#window, at, this.spec.period);
    c.attempts = a.attempt;
    const delay = backoffDelay(c.spec.restart, a.attempt, () => this.#clock.random());
    const plan = planRestart(this.spec.strategy, this.children.map((x) => x.spec.restart), a.index);
    // Children restarted together come back together, at the latest of their due times.
    let due = at + delay;
    for (const i of plan.restart) if (this.children[i]!.state === "restarting") due = Math.max(due, this.children[i]!.dueAt);
    for (const i of plan.restart) {
      const r = this.children[i]!;
      r.dueAt = due;
      if (r.state === "running" || r.state === "stopping") r.rejoin = true;
      else this.#schedule(i, due);
    }
    // The queue is a stack: push in start order so the latest started is stopped first.
    for (let k = plan.stop.length - 1; k >= 0; k--) {
      const i = plan.stop[k]!;
      const s = this.children[i]!;
      if (s.state !== "running") continue;
      s.state = "stopping";
      this.#stopQueue.push(i);
    }
    return delay;
  }

  /** The next child to stop, if none is being stopped; marks it as awaited. */
  takeStop(): { index: number; pid: string; spec: ChildSpec } | null {
    if (this.#awaiting !== null) return null;
    while (this.#stopQueue.length > 0) {
      const i = this.#stopQueue.pop()!;
      const c = this.children[i]!;
      if (c.pid === null || c.state !== "stopping") continue;
      this.#awaiting = i;
      return { index: i, pid: c.pid, spec: c.spec };
    }
    return null;
  }

  /** ms until the next restart is due; null when none is pending or stops must finish first. */
  nextDueIn(now: number): number | null {
    if (this.#due.size === 0 || this.#awaiting !== null || this.#stopQueue.length > 0) return null;
    let first = Number.POSITIVE_INFINITY;
    for (const i of this.#due) first = Math.min(first, this.children[i]!.dueAt);
    return Math.max(0, first - now);
  }

  /** Children whose restart is due, in start order, marked `starting`. */
  takeDue(now: number): number[] {
    if (this.#awaiting !== null || this.#stopQueue.length > 0) return [];
    const due = [...this.#due].filter((i) => this.children[i]!.dueAt <= now).sort((a, b) => a - b);
    for (const i of due) {
      this.#due.delete(i);
      const c = this.children[i]!;
      c.state = "starting";
      c.restarts++;
    }
    return due;
  }

  /** Orderly shutdown: nothing restarts; every live child is queued to stop, latest first. */
  shutdown(): void {
    this.#due.clear();
    this.#stopQueue = [];
    this.children.forEach((c, i) => {
      c.rejoin = false;
      if (c.pid === null) {
        if (c.state !== "stopping") c.state = "stopped";
        return;
      }
      c.state = "stopping";
      if (i !== this.#awaiting) this.#stopQueue.push(i);
    });
  }

  /** An EXIT during shutdown: the child is gone for good. */
  downInShutdown(ref: ChildRef, result: ExitResult): number | undefined {
    const index = "pid" in ref ? this.#byPid.get(ref.pid) : undefined;
    if (index === undefined) return undefined;
    this.#gone(index, result);
    this.children[index]!.state = "stopped";
    return index;
  }

  /** Nothing alive and nothing awaited. */
  get idle(): boolean {
    return this.#byPid.size === 0 && this.#awaiting === null;
  }

  livePids(): string[] {
    return [...this.#byPid.keys()];
  }

  info(): ChildInfo[] {
    return this.children.map((c) => ({ id: c.spec.id, pid: c.pid, state: c.state, restarts: c.restarts }));
  }

  /** What the Stately inspector shows for the context. */
  toJSON(): unknown {
    return { id: this.spec.id, strategy: this.spec.strategy, restartsInPeriod: this.#window.length, children: this.info() };
  }

  #gone(index: number, result: ExitResult): void {
    const c = this.children[index]!;
    if (c.pid !== null) this.#byPid.delete(c.pid);
    c.previousPid = c.pid ?? c.previousPid;
    c.pid = null;
    c.lastExit = result;
    if (this.#awaiting === index) this.#awaiting = null;
  }

  #schedule(index: number, due: number): void {
    const c = this.children[index]!;
    c.state = "restarting";
    c.dueAt = due;
    this.#due.add(index);
  }
}
