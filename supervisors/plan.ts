// Restart planning as pure functions of a supervisor's book: each takes the
// book and an event (a child's end, a confirmed start, a due restart, a
// shutdown) and returns the next book with the effects to run (spawn, stop,
// reply, emit). OTP's rules: restart types, intensity, backoff, the three
// strategies, one stop at a time, latest started first.

import type { ExitError, ExitResult } from "../src/process/exit.ts";
import { attemptsExhausted, backoffDelay, nextAttempt } from "./backoff.ts";
import { Draft, describeExit, records, type Book, type ChildRecord, type Effect, type Step } from "./bookkeeping.ts";
import { addRestart, wouldExceed } from "./intensity.ts";
import { push } from "./persistent.ts";
import { shouldRestart } from "./restart-policy.ts";
import { planRestart } from "./strategies.ts";

/** A child's end: an EXIT by pid, or a spawn that failed (by key). `random` in [0, 1) spreads the backoff (jitter). */
export type Down =
  | { pid: string; result: ExitResult; at: number; random: number }
  | { key: number; result: ExitResult; at: number; random: number };

/** Spawns the children the book holds as `starting` (a new supervisor's). */
export function startAll(book: Book): Step {
  const d = new Draft(book);
  for (const c of records(book)) if (c.spawning) d.spawn(c);
  return d.done();
}

/** What one startChildren effect produced, child by child in start order. */
export type SpawnResult = { key: number; pid: string } | { key: number; error: ExitError };

/**
 * The outcome of a batch of spawns: each started child is recorded (or stopped,
 * if it was asked to stop meanwhile); each failure is a child's end (`plan`),
 * or, while the supervisor starts, its failure (`startFailed`).
 */
export function spawned(book: Book, results: readonly SpawnResult[], at: number, random: number, starting: boolean): Step {
  const effects: Effect[] = [];
  let failure: ExitError | undefined;
  for (const r of results) {
    // A child asked for by startChild is the caller's failure, not the supervisor's, even while it starts.
    const requested = book.children.get(r.key)?.waiting.some((w) => w.until === "up") ?? false;
    const step = "pid" in r
      ? started(book, r.key, r.pid, at)
      : starting && !requested ? startFailed(book, r.key, r.error) : plan(book, { key: r.key, result: { error: r.error }, at, random });
    book = step.book;
    effects.push(...step.effects);
    failure ??= step.failure;
  }
  return { book, effects, ...(failure ? { failure } : {}) };
}

/** A spawn returned `pid`. A child asked to stop while it started is stopped now. */
export function started(book: Book, key: number, pid: string, at: number): Step {
  const d = new Draft(book);
  const c = d.get(key);
  if (!c?.spawning) return d.done();
  const info = { type: "child.started", supervisor: d.id, child: c.spec.id, pid, restarts: c.restarts, previousPid: c.previousPid, lastExit: c.lastExit } as const;
  if (c.state === "starting" && d.stopReason === null) {
    d.put({ ...c, pid, state: "running", spawning: false, startedAt: at });
    d.emit(info);
    return d.done();
  }
  d.put({ ...c, pid, state: "stopping", spawning: false, startedAt: at, rejoin: d.stopReason === null && (c.rejoin || c.state === "restarting") });
  d.emit(info);
  d.stops = push(d.stops, { key, reason: d.stopReason ?? `restart by ${d.id}` });
  stopNext(d);
  return d.done();
}

/** A child could not be spawned while the supervisor starts: it fails (OTP's init), with kind `spawn`. */
export function startFailed(book: Book, key: number, error: ExitError): Step {
  const d = new Draft(book);
  const c = d.get(key);
  if (!c?.spawning) return d.done();
  d.put({ ...gone(c, { error }), state: "stopped" });
  d.failure = { kind: "spawn", message: `${d.id}: child ${c.spec.id} could not start: ${error.message}` };
  return d.done();
}

/** What a child's end means: stale, a stop we asked for, an end that stays, a restart by strategy, or giving up. */
export function plan(book: Book, down: Down): Step {
  const d = new Draft(book);
  const key = "pid" in down ? book.byPid.get(down.pid) : down.key;
  const c = key === undefined ? undefined : d.get(key);
  if (!c || ("key" in down && !c.spawning)) return d.done(); // stale
  const { result, at } = down;
  const pid = "pid" in down ? down.pid : "";
  const exited = (outcome: "restart" | "ended" | "give-up" | "planned" | "terminated" | "shutdown", delay?: number) =>
    d.emit({ type: "child.exited", supervisor: d.id, child: c.spec.id, pid, result, outcome, ...(delay !== undefined ? { delay } : {}) });

  // A child added by startChild whose first start failed is not kept (OTP's start_child).
  if ("key" in down && c.previousPid === null && c.lastExit === null && c.waiting.some((w) => w.until === "up")) {
    d.put({ ...gone(c, result), state: "stopped" });
    d.remove(c.key);
    return d.done();
  }
  if (d.stopReason !== null || c.state === "stopping") {
    const rejoin = d.stopReason === null && c.rejoin;
    d.put({ ...gone(c, result), state: rejoin ? "restarting" : "stopped", rejoin: false });
    exited(d.stopReason !== null ? "shutdown" : c.terminating ? "terminated" : "planned");
    stopNext(d);
    return d.done();
  }
  const cfg = c.spec.restart;
  if (!shouldRestart(cfg.policy, result)) {
    d.put({ ...gone(c, result), state: "stopped" });
    exited("ended");
    return d.done();
  }
  const { intensity, period } = book.spec;
  const attempt = nextAttempt(cfg, c.attempts, c.state === "running" ? at - c.startedAt : 0);
  const giveUp = wouldExceed(book.window, at, intensity, period)
    ? `${d.id}: more than ${intensity} restart${intensity === 1 ? "" : "s"} within ${period} ms; last: ${c.spec.id} ${describeExit(result)}`
    : attemptsExhausted(cfg, attempt)
      ? `${d.id}: child ${c.spec.id} failed again after ${cfg.maxAttempts} restart attempt${cfg.maxAttempts === 1 ? "" : "s"} (max_attempts); last: ${describeExit(result)}`
      : null;
  if (giveUp !== null) {
    d.put({ ...gone(c, result), state: "stopped" });
    d.failure = { kind: "limit", message: giveUp };
    exited("give-up");
    return d.done();
  }
  d.window = addRestart(book.window, at, period);
  const delay = backoffDelay(cfg, attempt, () => down.random);
  d.put({ ...gone(c, result), state: "stopped", attempts: attempt });
  const { stop, restart } = strategyPlan(d, c.key);
  // Children restarted together come back together, at the latest of their due times.
  let due = at + delay;
  for (const k of restart) {
    const r = d.get(k)!;
    if (r.state === "restarting") due = Math.max(due, r.dueAt);
  }
  for (const k of restart) {
    const r = d.get(k)!;
    if (r.terminating) continue;
    if (r.spawning) d.put({ ...r, state: "stopping", dueAt: due, rejoin: true }); // stopped once its start is confirmed
    else if (r.pid !== null) d.put({ ...r, dueAt: due, rejoin: true });
    else d.put({ ...r, state: "restarting", dueAt: due });
  }
  // The stop queue is a stack: pushed in start order, so the latest started is stopped first.
  for (let i = stop.length - 1; i >= 0; i--) {
    const s = d.get(stop[i]!)!;
    if (s.state !== "running") continue;
    d.put({ ...s, state: "stopping" });
    d.stops = push(d.stops, { key: s.key, reason: `restart by ${d.id}` });
  }
  exited("restart", delay);
  stopNext(d);
  return d.done();
}

/** Starts the restarts that are due at `at`, in start order, once no stop is pending. */
export function restartDue(book: Book, at: number): Step {
  const d = new Draft(book);
  if (book.awaiting !== null || book.stops !== null) return d.done();
  const keys = [...book.due.entries()].filter(([, dueAt]) => dueAt <= at).map(([k]) => k).sort((a, b) => a - b);
  for (const k of keys) {
    const c = d.get(k)!;
    d.put({ ...c, state: "starting", spawning: true, restarts: c.restarts + 1 });
    d.spawn(c);
  }
  return d.done();
}

/** Orderly shutdown: nothing restarts; every live child is queued to stop, latest first. */
export function shutdown(book: Book, reason: string): Step {
  const d = new Draft(book);
  d.stopReason = reason;
  d.stops = null;
  for (const c of records(book)) {
    if (c.pid !== null) {
      d.put({ ...c, state: "stopping", rejoin: false });
      if (c.key !== d.awaiting) d.stops = push(d.stops, { key: c.key, reason });
    } else if (c.spawning) d.put({ ...c, state: "stopping", rejoin: false }); // stopped once its start is confirmed
    else if (c.state !== "stopped") d.put({ ...c, state: "stopped", rejoin: false });
  }
  stopNext(d);
  return d.done();
}

/** Issues the next stop of the queue unless one is awaited. */
export function stopNext(d: Draft): void {
  if (d.awaiting !== null) return;
  while (d.stops !== null) {
    const { top, rest } = d.stops;
    d.stops = rest;
    const c = d.get(top.key);
    if (!c || c.pid === null || c.state !== "stopping") continue;
    d.awaiting = top.key;
    d.effect({ type: "stopChild", params: { key: c.key, pid: c.pid, spec: c.spec, reason: top.reason } });
    return;
  }
}

function gone(c: ChildRecord, result: ExitResult): ChildRecord {
  return { ...c, pid: null, spawning: false, previousPid: c.pid ?? c.previousPid, lastExit: result };
}

/** The strategy's stops and restarts, by key. one_for_one touches only the failed child (O(1)); the others walk the children, as OTP does. */
function strategyPlan(d: Draft, failed: number): { stop: number[]; restart: number[] } {
  const { strategy } = d.base.spec;
  if (strategy === "one_for_one") return { stop: [], restart: [failed] };
  const keys: number[] = [];
  const policies: { policy: ChildRecord["spec"]["restart"]["policy"] }[] = [];
  for (const c of d.children) {
    if (!c) continue;
    keys.push(c.key);
    policies.push({ policy: c.spec.restart.policy });
  }
  const p = planRestart(strategy, policies, keys.indexOf(failed));
  return { stop: p.stop.map((i) => keys[i]!), restart: p.restart.map((i) => keys[i]!) };
}
