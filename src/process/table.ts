// The process table: every live process by pid, and the one place where the
// operations between processes happen — send, monitor, link, cancel,
// terminate — and where a process's end becomes EXIT and LINK_DOWN events.
// Exactly one EXIT per monitor, whatever ended the process.

import type { ProcessState } from "../../machines/process.ts";
import { checkTopic, exitEvent, type ProcessMessageEvent } from "./events.ts";
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

export class ProcessTable {
  readonly #procs = new Map<string, ProcessRecord>();
  readonly #exitListeners = new Set<ExitListener>();

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
    if (!target) return false;
    // a guest receives bytes or JSON text; TypeScript the value (a guest's payload decoded)
    const value = target.wire ? (payload instanceof Wire ? payload : toWire(payload)) : payload instanceof Wire ? fromWire(payload) : payload;
    const event: ProcessMessageEvent = { type: "MESSAGE", from, topic, payload: value };
    if (target.forward) return target.forward(event);
    const outcome = target.mailbox.deliver(event);
    if (outcome === "full") throw new MailboxFullError(to, target.mailbox.capacity);
    return outcome === "queued";
  }

  /** `watcher` gets an EXIT when `target` ends; at once (kind noproc) if it already has. */
  monitor(watcher: string, target: string): void {
    const t = this.#procs.get(target);
    if (t) {
      t.monitors.add(watcher);
      return;
    }
    this.#procs.get(watcher)?.mailbox.deliver({
      type: "EXIT",
      from: target,
      error: { kind: "noproc", message: `process ${target} does not exist or has already exited` },
    });
  }

  unmonitor(watcher: string, target: string): void {
    this.#procs.get(target)?.monitors.delete(watcher);
  }

  /** Links two processes; a target that is gone is a ProcessError of kind noproc. (A table on a worker thread answers with a Promise.) */
  link(a: string, b: string): void | Promise<void> {
    const pa = this.#procs.get(a);
    const pb = this.#procs.get(b);
    if (!pa) return;
    if (!pb) throw new ProcessError("noproc", `cannot link ${a} to ${b}: no such process (it does not exist or has already exited)`);
    pa.links.add(b);
    pb.links.add(a);
  }

  unlink(a: string, b: string): void {
    this.#procs.get(a)?.links.delete(b);
    this.#procs.get(b)?.links.delete(a);
  }

  /** `trap_links` of a process (its LINK_DOWN handling lives where its links are). */
  setTrapLinks(pid: string, trap: boolean): void {
    const rec = this.#procs.get(pid);
    if (rec) rec.trapLinks = trap;
  }

  /** Forceful: the process ends at once with kind `killed`. */
  terminate(from: string, pid: string): void {
    this.#procs.get(pid)?.kill({ kind: "killed", message: `terminated by ${from}` });
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
    if (!rec) return;
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
      for (const watcher of monitors) this.#procs.get(watcher)?.mailbox.deliver(event);
      monitors.clear();
    }
    if (links) {
      for (const other of links) {
        const o = this.#procs.get(other);
        if (!o) continue;
        o.links.delete(pid);
        if (!error) continue;
        if (o.trapLinks) o.mailbox.deliver({ type: "LINK_DOWN", from: pid, error });
        else o.kill({ kind: "link", message: `linked process ${pid} failed (${error.kind}): ${error.message}` });
      }
      links.clear();
    }
    for (const listener of this.#exitListeners) listener(pid, result, rec);
  }
}
