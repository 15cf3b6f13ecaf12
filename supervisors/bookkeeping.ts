// A supervisor's book as immutable data: its children's records in start
// order, the pid index, the restart schedule, the intensity window and the stop
// queue. Nothing here is mutated: the planning functions (plan.ts,
// child-requests.ts) take a book and return the next one with the effects to
// run, and the machine (machines/supervisor.ts) stores it with `assign`. The
// collections are persistent, so one child's change costs O(log n).

import type { ExitError, ExitResult } from "../src/process/exit.ts";
import { HashMap, Vec, type Stack } from "./persistent.ts";
import type { ChildSpec, SupervisorSpec } from "./spec.ts";

/** starting: spawn issued, not confirmed · restarting: waiting out its backoff (pid null) · stopped: ended, spec kept. */
export type ChildState = "starting" | "running" | "stopping" | "restarting" | "stopped";

/** What whichChildren() reports per child. */
export interface ChildInfo {
  id: string;
  pid: string | null;
  kind: "worker" | "supervisor";
  state: ChildState;
  restarts: number;
}

export interface ChildCounts {
  /** Child specs the supervisor holds, running or not. */
  specs: number;
  /** Children with a live process. */
  active: number;
  supervisors: number;
  workers: number;
}

/** A request (startChild, restartChild, terminateChild) waiting for its child to be up or down. */
export interface Waiter {
  readonly request: number;
  readonly until: "up" | "down";
}

export interface ChildRecord {
  /** Position in start order; never reused, so a deleted child leaves a hole. */
  readonly key: number;
  readonly spec: ChildSpec;
  readonly pid: string | null;
  readonly state: ChildState;
  /** A spawn was issued and its result (SPAWNED) has not arrived. */
  readonly spawning: boolean;
  readonly restarts: number;
  /** Consecutive restarts since the child last ran stably (the backoff exponent). */
  readonly attempts: number;
  readonly startedAt: number;
  /** When a `restarting` child (or one stopped to rejoin) is started again. */
  readonly dueAt: number;
  /** Stopped by a restart plan: comes back once it is gone. */
  readonly rejoin: boolean;
  /** Stopped by terminateChild: stays down. */
  readonly terminating: boolean;
  readonly previousPid: string | null;
  readonly lastExit: ExitResult | null;
  readonly waiting: readonly Waiter[];
}

export interface StopOrder {
  readonly key: number;
  readonly reason: string;
}

export interface Book {
  /** The supervisor's settings; `spec.children` are the children it was started with. */
  readonly spec: SupervisorSpec;
  /** By key, in start order; `undefined` where a child was deleted. */
  readonly children: Vec<ChildRecord | undefined>;
  readonly byPid: HashMap<string, number>;
  /** Restarting children: key → due time. */
  readonly due: HashMap<number, number>;
  /** Restart times within the intensity period, oldest first. */
  readonly window: readonly number[];
  /** Children to stop, the next on top; one is stopped at a time, as OTP does. */
  readonly stops: Stack<StopOrder>;
  /** The child whose stop was issued and whose EXIT is awaited. */
  readonly awaiting: number | null;
  /** How many spawns are in flight. */
  readonly spawning: number;
  /** Set once the supervisor shuts down: nothing restarts from then on. */
  readonly stopReason: string | null;
}

export type ChildOutcome = "restart" | "ended" | "give-up" | "planned" | "terminated" | "shutdown";

export type SupervisorEmitted =
  | {
      type: "child.exited";
      supervisor: string;
      child: string;
      pid: string;
      result: ExitResult;
      outcome: ChildOutcome;
      /** ms until the restart, for outcome `restart`. */
      delay?: number;
    }
  | { type: "child.started"; supervisor: string; child: string; pid: string; restarts: number; previousPid: string | null; lastExit: ExitResult | null };

export type ChildErrorCode = "already_started" | "already_present" | "running" | "restarting" | "not_found";

/** The answer to a child request: a pid (or null), a refusal, or a failure (spawn error, supervisor stopping). */
export type ChildReply = { ok: string | null } | { refused: ChildErrorCode; message: string } | { failed: ExitError };

export interface StartChildrenParams {
  /** In start order. */
  children: { key: number; spec: ChildSpec }[];
}
export interface StopChildParams {
  key: number;
  pid: string;
  spec: ChildSpec;
  reason: string;
}
export interface ReplyParams {
  request: number;
  reply: ChildReply;
}

/** What a step asks the world for, in order: the machine's named effect actions, and events to emit. */
export type Effect =
  | { type: "startChildren"; params: StartChildrenParams }
  | { type: "stopChild"; params: StopChildParams }
  | { type: "reply"; params: ReplyParams }
  | { type: "emit"; event: SupervisorEmitted };

export interface Step {
  book: Book;
  effects: readonly Effect[];
  /** The supervisor gives up (intensity, max_attempts, a child that cannot start). */
  failure?: ExitError;
}

export function describeExit(result: ExitResult): string {
  return "error" in result ? `${result.error.kind}: ${result.error.message}` : `normal exit (${JSON.stringify(result.value) ?? "undefined"})`;
}

export function newRecord(key: number, spec: ChildSpec, waiting: readonly Waiter[] = []): ChildRecord {
  return {
    key, spec, pid: null, state: "starting", spawning: true, restarts: 0, attempts: 0, startedAt: 0, dueAt: 0,
    rejoin: false, terminating: false, previousPid: null, lastExit: null, waiting,
  };
}

/** A supervisor about to start its children: every one `starting`. */
export function newBook(spec: SupervisorSpec): Book {
  return {
    spec,
    children: Vec.from(spec.children.map((c, key) => newRecord(key, c))),
    byPid: HashMap.empty(),
    due: HashMap.empty(),
    window: [],
    stops: null,
    awaiting: null,
    spawning: spec.children.length,
    stopReason: null,
  };
}

export function* records(book: Book): IterableIterator<ChildRecord> {
  for (const c of book.children) if (c) yield c;
}

export function findChild(book: Book, id: string): ChildRecord | undefined {
  for (const c of records(book)) if (c.spec.id === id) return c;
  return undefined;
}

export const childKind = (spec: ChildSpec): ChildInfo["kind"] => (spec.kind === "supervisor" ? "supervisor" : "worker");

export function childInfo(book: Book): ChildInfo[] {
  return [...records(book)].map((c) => ({ id: c.spec.id, pid: c.pid, kind: childKind(c.spec), state: c.state, restarts: c.restarts }));
}

export function countChildren(book: Book): ChildCounts {
  const counts: ChildCounts = { specs: 0, active: book.byPid.size, supervisors: 0, workers: 0 };
  for (const c of records(book)) {
    counts.specs++;
    counts[childKind(c.spec) === "supervisor" ? "supervisors" : "workers"]++;
  }
  return counts;
}

/** Nothing alive, nothing awaited, no spawn in flight: a stopping supervisor may end. */
export function isIdle(book: Book): boolean {
  return book.byPid.size === 0 && book.awaiting === null && book.spawning === 0;
}

/** When the next restart is due; null when none is pending or stops must finish first. */
export function nextRestartAt(book: Book): number | null {
  if (book.due.size === 0 || book.awaiting !== null || book.stops !== null) return null;
  let first = Number.POSITIVE_INFINITY;
  for (const [, at] of book.due.entries()) first = Math.min(first, at);
  return first;
}

/**
 * One step's edits to a book: the persistent collections are replaced, never
 * changed, and `put` keeps the indexes (pid, due, spawn count) and the waiting
 * requests in line with each record. Lives only inside a planning function.
 */
export class Draft {
  readonly base: Book;
  children: Vec<ChildRecord | undefined>;
  byPid: HashMap<string, number>;
  due: HashMap<number, number>;
  window: readonly number[];
  stops: Stack<StopOrder>;
  awaiting: number | null;
  spawning: number;
  stopReason: string | null;
  readonly effects: Effect[] = [];
  failure: ExitError | undefined;
  /** Children to spawn, in one startChildren effect after the others. */
  readonly #spawns: StartChildrenParams["children"] = [];

  constructor(book: Book) {
    this.base = book;
    ({ children: this.children, byPid: this.byPid, due: this.due, window: this.window, stops: this.stops, awaiting: this.awaiting, spawning: this.spawning, stopReason: this.stopReason } = book);
  }

  get id(): string {
    return this.base.spec.id;
  }

  get(key: number): ChildRecord | undefined {
    return this.children.get(key);
  }

  put(next: ChildRecord): void {
    const prev = this.children.get(next.key);
    if (prev?.pid !== next.pid) {
      if (prev?.pid) this.byPid = this.byPid.delete(prev.pid);
      if (next.pid !== null) this.byPid = this.byPid.set(next.pid, next.key);
    }
    if ((prev?.spawning ?? false) !== next.spawning) this.spawning += next.spawning ? 1 : -1;
    if (next.state === "restarting") {
      if (prev?.state !== "restarting" || prev.dueAt !== next.dueAt) this.due = this.due.set(next.key, next.dueAt);
    } else if (prev?.state === "restarting") this.due = this.due.delete(next.key);
    if (this.awaiting === next.key && next.pid === null) this.awaiting = null;
    if (next.waiting.length > 0) next = this.#settle(next);
    if (next.state === "stopped" && next.terminating) next = { ...next, terminating: false };
    this.children = next.key < this.children.size ? this.children.set(next.key, next) : this.children.push(next);
  }

  /** Deletes a stopped child's record (its key stays unused). */
  remove(key: number): void {
    this.children = this.children.set(key, undefined);
  }

  effect(e: Effect): void {
    this.effects.push(e);
  }

  spawn(c: ChildRecord): void {
    this.#spawns.push({ key: c.key, spec: c.spec });
  }

  reply(request: number, reply: ChildReply): void {
    this.effects.push({ type: "reply", params: { request, reply } });
  }

  emit(event: SupervisorEmitted): void {
    this.effects.push({ type: "emit", event });
  }

  done(): Step {
    if (this.#spawns.length > 0) this.effects.push({ type: "startChildren", params: { children: this.#spawns } });
    const book: Book = {
      spec: this.base.spec, children: this.children, byPid: this.byPid, due: this.due, window: this.window,
      stops: this.stops, awaiting: this.awaiting, spawning: this.spawning, stopReason: this.stopReason,
    };
    return { book, effects: this.effects, ...(this.failure ? { failure: this.failure } : {}) };
  }

  /** Answers the requests the record's new state settles: up → its pid; down → done; up but down → the failure. */
  #settle(c: ChildRecord): ChildRecord {
    const up = c.state === "running";
    const down = c.state === "stopped" || c.state === "restarting";
    if (!up && !down) return c;
    const failed: ExitError = c.lastExit && "error" in c.lastExit ? c.lastExit.error : { kind: "cancelled", message: `${this.id}: child ${c.spec.id} stopped` };
    const waiting = c.waiting.filter((w) => {
      if (up && w.until === "up") this.reply(w.request, { ok: c.pid });
      else if (down && w.until === "up") this.reply(w.request, { failed });
      else if (c.state === "stopped" && w.until === "down") this.reply(w.request, { ok: null });
      else return true;
      return false;
    });
    return { ...c, waiting };
  }
}
