// The process table: every live process by pid, and the one place where the
// operations between processes happen — send, monitor, link, cancel,
// terminate — and where a process's end becomes EXIT and LINK_DOWN events.
// Exactly one EXIT per monitor, whatever ended the process. A process on a
// worker thread is a record here like any other (its body runs there); a
// process on another node is known by its pid only, and what concerns it goes
// through the Elsewhere the table is handed (the cluster node).

import type { ProcessState } from "../../machines/process.ts";
import { checkTopic, exitEvent, type ProcessMessageEvent, type SystemEvent } from "./events.ts";
import { newPid, nodeOf } from "./pid.ts";
import { MailboxFullError, ProcessError, type ExitError, type ExitResult } from "./exit.ts";
import type { ProcessKind, ProcessRecord } from "./record.ts";
import { cancelMessage, checkTimeout } from "./arguments.ts";
import { fromWire, toWire, Wire } from "./wire.ts";

export type { ProcessRecord } from "./record.ts";

export interface ProcessInfo {
  pid: string;
  /** The entry ID; null for anonymous TypeScript logic. */
  entry: string | null;
  host: string;
  kind: Exclude<ProcessKind, "handle">;
  state: ProcessState;
  /** 0: the main thread. */
  thread: number;
  startedAt: number;
  /** Bytes of linear memory (0 for TypeScript processes). */
  memory: number;
}

export type ExitListener = (pid: string, result: ExitResult, record: ProcessRecord) => void;

export const DEFAULT_CANCEL_TIMEOUT_MS = 5000;

/**
 * The processes of other nodes (section 9), as the table is handed them: it
 * knows their pids only, and asks this for everything it cannot do itself.
 */
export interface Elsewhere {
  send(from: string, to: string, topic: string, payload: Wire): Promise<boolean>;
  monitor(watcher: string, target: string): void;
  unmonitor(watcher: string, target: string): void;
  link(a: string, b: string): Promise<void>;
  unlink(a: string, b: string): void;
  terminate(from: string, pid: string): void;
  cancel(from: string, pid: string, reason: unknown, timeoutMs: number): void;
  /** An EXIT or LINK_DOWN for a process there. */
  deliver(pid: string, event: SystemEvent): void;
  /** `from` (here) ended while linked to `pid` (there); `error` unless it ended normally. */
  linkEnded(pid: string, from: string, error: ExitError | undefined): void;
}

export class ProcessTable {
  readonly #procs = new Map<string, ProcessRecord>();
  readonly #exitListeners = new Set<ExitListener>();
  /** This runtime's node in a cluster: its pids name it. */
  readonly node: string | undefined;
  #elsewhere: Elsewhere | undefined;
  /** Processes here watching processes on other nodes, by the pid watched, for when that node goes down. */
  readonly #remoteMonitors = new Map<string, Set<string>>();
  /** Processes of other nodes whose EXIT has come (recent ones). */
  readonly #endedRemote = new Set<string>();

  constructor(node?: string) {
    this.node = node;
  }

  /** The other nodes of a cluster from now on. */
  connect(elsewhere: Elsewhere): void {
    this.#elsewhere = elsewhere;
  }

  /** A fresh pid on `host` of this node. */
  newPid(host: string): string {
    return newPid(host, this.node);
  }

  /** Does `pid` live on another node of the cluster? */
  isRemote(pid: string): boolean {
    return this.#elsewhere !== undefined && this.#foreign(pid);
  }

  #foreign(pid: string): boolean {
    const node = nodeOf(pid);
    return node !== undefined && node !== this.node;
  }

  /**
   * The route to `pid` if it lives on another node and is not known to have ended:
   * a process whose watchers here were told it ended (its EXIT, or noconnection when
   * its node went down) does not come back when its node does.
   */
  #remote(pid: string): Elsewhere | undefined {
    if (!this.#elsewhere || !this.#foreign(pid) || this.#endedRemote.has(pid)) return undefined;
    return this.#elsewhere;
  }

  /** EXIT, LINK_DOWN or CANCEL to a process, here or on another node. */
  #deliverTo(pid: string, event: SystemEvent): void {
    const rec = this.#procs.get(pid);
    if (rec) rec.mailbox.deliver(event);
    else this.#remote(pid)?.deliver(pid, event);
  }

  get size(): number {
    return this.#procs.size;
  }

  add(record: ProcessRecord): void {
    this.#procs.set(record.pid, record);
  }

  get(pid: string): ProcessRecord | undefined {
    return this.#procs.get(pid);
  }

  all(): IterableIterator<ProcessRecord> {
    return this.#procs.values();
  }

  onExit(listener: ExitListener): () => void {
    this.#exitListeners.add(listener);
    return () => void this.#exitListeners.delete(listener);
  }

  info(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const r of this.#procs.values()) {
      if (r.kind === "handle") continue;
      out.push({ pid: r.pid, entry: r.entry, host: r.host, kind: r.kind, state: r.state(), thread: r.thread, startedAt: r.startedAt, memory: r.memory() });
    }
    return out;
  }

  /**
   * `true` once the message is in a live mailbox, `false` when `to` is gone. A
   * process on another thread answers later: a Promise, settled once its thread
   * has accepted the message (or refused it: full).
   */
  send(from: string, to: string, topic: string, payload: unknown): boolean | Promise<boolean> {
    checkTopic(topic);
    const target = this.#procs.get(to);
    if (!target) return this.#sendElsewhere(from, to, topic, payload);
    // a guest receives bytes or JSON text; TypeScript the value (a guest's payload decoded)
    const value = target.wire ? (payload instanceof Wire ? payload : toWire(payload)) : payload instanceof Wire ? fromWire(payload) : payload;
    const event: ProcessMessageEvent = { type: "MESSAGE", from, topic, payload: value };
    if (target.forward) return target.forward(event);
    const outcome = target.mailbox.deliver(event);
    if (outcome === "full") throw new MailboxFullError(to, target.mailbox.capacity);
    return outcome === "queued";
  }

  // apart from send, which stays small enough to be inlined into the API's send
  #sendElsewhere(from: string, to: string, topic: string, payload: unknown): boolean | Promise<boolean> {
    if (!this.#elsewhere || !this.#foreign(to)) return false;
    // across nodes a payload is bytes or JSON: what cannot cross is a TypeError here, live target or not
    const wire = payload instanceof Wire ? payload : toWire(payload);
    return this.#remote(to)?.send(from, to, topic, wire) ?? false;
  }

  /** `watcher` gets an EXIT when `target` ends; at once (kind noproc) if it already has. */
  monitor(watcher: string, target: string): void {
    const t = this.#procs.get(target);
    if (t) {
      t.monitors.add(watcher);
      return;
    }
    const remote = this.#remote(target);
    if (remote) {
      this.watchRemote(watcher, target);
      remote.monitor(watcher, target);
      return;
    }
    this.#deliverTo(watcher, {
      type: "EXIT",
      from: target,
      error: { kind: "noproc", message: `process ${target} does not exist or has already exited` },
    });
  }

  unmonitor(watcher: string, target: string): void {
    const t = this.#procs.get(target);
    if (t) {
      t.monitors.delete(watcher);
      return;
    }
    const remote = this.#remote(target);
    if (remote && this.#remoteMonitors.get(target)?.delete(watcher)) remote.unmonitor(watcher, target);
  }

  /** Links two processes; a target that is gone is a ProcessError of kind noproc. (A table on a worker thread answers with a Promise.) */
  link(a: string, b: string): void | Promise<void> {
    const pa = this.#procs.get(a);
    const pb = this.#procs.get(b);
    if (!pb) {
      const remote = this.#remote(b);
      if (pa && remote) return remote.link(a, b).then(() => void pa.links.add(b));
      if (!pa && !this.#remote(a)) return;
      throw new ProcessError("noproc", `cannot link ${a} to ${b}: no such process (it does not exist or has already exited)`);
    }
    if (!pa && !this.#remote(a)) return;
    pa?.links.add(b); // a process of another node keeps its side there
    pb.links.add(a);
  }

  unlink(a: string, b: string): void {
    this.#procs.get(a)?.links.delete(b);
    const pb = this.#procs.get(b);
    if (pb) pb.links.delete(a);
    else this.#remote(b)?.unlink(a, b);
  }

  /** `trap_links` of a process (its LINK_DOWN handling lives where its links are). */
  setTrapLinks(pid: string, trap: boolean): void {
    const rec = this.#procs.get(pid);
    if (rec) rec.trapLinks = trap;
  }

  /** Forceful: the process ends at once with kind `killed`. */
  terminate(from: string, pid: string): void {
    const rec = this.#procs.get(pid);
    if (rec) rec.kill({ kind: "killed", message: `terminated by ${from}` });
    else this.#remote(pid)?.terminate(from, pid);
  }

  /**
   * Graceful: CANCEL first (a body that can receive may finish with its own
   * result; one that cannot ends `cancelled` at its next wait), then `killed`
   * once `timeoutMs` has passed. Infinity: no kill timer (a supervisor stops its
   * own children in time).
   */
  cancel(from: string, pid: string, reason: unknown, timeoutMs: number = DEFAULT_CANCEL_TIMEOUT_MS): void {
    if (timeoutMs !== Number.POSITIVE_INFINITY) checkTimeout("cancel", timeoutMs);
    const rec = this.#procs.get(pid);
    if (!rec) {
      this.#remote(pid)?.cancel(from, pid, reason, timeoutMs);
      return;
    }
    rec.mailbox.deliver({ type: "CANCEL", from, reason });
    if (!this.#procs.has(pid)) return; // the body finished on the spot
    if (Number.isFinite(timeoutMs) && rec.cancelTimer === undefined) {
      rec.cancelTimer = setTimeout(() => rec.kill({ kind: "killed", message: `did not stop within ${timeoutMs} ms of being cancelled (${cancelMessage(reason)})` }), timeoutMs);
    }
    rec.cancelled(from, reason);
  }

  /**
   * Removes an ended process and tells everyone who asked: monitors get EXIT,
   * links get LINK_DOWN (if they trap links) or are taken down with kind `link`.
   * A normal exit sends nothing over links.
   */
  exit(pid: string, result: ExitResult): void {
    const rec = this.#procs.get(pid);
    if (!rec) return;
    this.#procs.delete(pid);
    if (rec.cancelTimer !== undefined) clearTimeout(rec.cancelTimer);
    rec.mailbox.close("error" in result ? result.error : { kind: "exit", message: "ended normally" });
    const error: ExitError | undefined = "error" in result ? result.error : undefined;
    const { monitors, links } = rec.watchers;
    if (monitors && monitors.size > 0) {
      const event = exitEvent(pid, result);
      for (const watcher of monitors) this.#deliverTo(watcher, event);
      monitors.clear();
    }
    if (links) {
      for (const other of links) {
        if (this.#procs.has(other)) this.linkEnded(other, pid, error);
        else this.#remote(other)?.linkEnded(other, pid, error);
      }
      links.clear();
    }
    for (const listener of this.#exitListeners) listener(pid, result, rec);
  }

  /** `from` ended while linked to `pid` (here): a failure takes `pid` down, or is its LINK_DOWN if it traps links. */
  linkEnded(pid: string, from: string, error: ExitError | undefined): void {
    const o = this.#procs.get(pid);
    if (!o) return;
    o.links.delete(from);
    if (!error) return;
    if (o.trapLinks) o.mailbox.deliver({ type: "LINK_DOWN", from, error });
    else o.kill({ kind: "link", message: `linked process ${from} failed (${error.kind}): ${error.message}` });
  }

  /** Was `pid` (of another node) reported ended here? Its messages are not taken any more. */
  endedElsewhere(pid: string): boolean {
    return this.#endedRemote.has(pid);
  }

  /** A process on another node has ended (its EXIT came here): its remote monitors are done. */
  remoteEnded(pid: string): void {
    this.#remoteMonitors.delete(pid);
    this.#endedRemote.add(pid);
    // bounded: only the EXITs that may overtake a spawn's answer matter
    if (this.#endedRemote.size > 10_000) this.#endedRemote.delete(this.#endedRemote.values().next().value!);
  }

  /** `watcher` (here) monitors `target` on another node already (a remote spawn did it): noted for node-down. */
  watchRemote(watcher: string, target: string): void {
    if (this.#endedRemote.has(target)) return; // its EXIT came before the spawn's answer
    let watchers = this.#remoteMonitors.get(target);
    if (!watchers) this.#remoteMonitors.set(target, (watchers = new Set()));
    watchers.add(watcher);
  }

  /**
   * Node `node` is down: every process here monitoring one of its processes gets
   * one EXIT `noconnection`, every process linked to one is taken down or gets
   * LINK_DOWN, and its processes' watches of ours are forgotten.
   */
  nodeDown(node: string, message: string): void {
    const error: ExitError = { kind: "noconnection", message };
    for (const [target, watchers] of [...this.#remoteMonitors]) {
      if (nodeOf(target) !== node) continue;
      this.remoteEnded(target);
      for (const w of watchers) this.#procs.get(w)?.mailbox.deliver({ type: "EXIT", from: target, error });
    }
    for (const rec of [...this.#procs.values()]) {
      const { monitors, links } = rec.watchers;
      if (monitors) for (const w of [...monitors]) if (nodeOf(w) === node) monitors.delete(w);
      if (links) {
        for (const other of [...links]) {
          if (nodeOf(other) !== node) continue;
          this.remoteEnded(other);
          this.linkEnded(rec.pid, other, error);
        }
      }
    }
  }
}
