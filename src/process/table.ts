// The process table: every live process by pid, and the one place where a
// process's end is turned into EXIT and LINK_DOWN events. Exactly one EXIT per
// monitor, whatever ended the process.

import type { ProcessState } from "../../machines/process.ts";
import type { ExitError, ExitResult } from "./exit.ts";
import { ProcessError } from "./exit.ts";
import type { Mailbox } from "./mailbox.ts";

/** What runs in a process, as `runtime.processes()` reports it. */
export type ProcessKind = "wasm" | "lua" | "actor" | "supervisor";

export interface ProcessRecord {
  readonly pid: string;
  /** A host-side mailbox (`runtime.process`, `newProcess()`) is a "handle" and is not listed. */
  readonly kind: ProcessKind | "handle";
  /** Entry ID of a WASM process, a supervisor's ID; "" for a host-side mailbox process. */
  readonly entry: string;
  readonly host: string;
  readonly startedAt: number;
  readonly mailbox: Mailbox;
  /** Pids monitoring this process. */
  readonly monitors: Set<string>;
  readonly links: Set<string>;
  trapLinks: boolean;
  state(): ProcessState;
  memory(): number;
  /** Ends the process at once with this error (a no-op once it has ended). */
  kill(error: ExitError): void;
}

export interface ProcessInfo {
  pid: string;
  entry: string;
  host: string;
  kind: ProcessKind;
  state: ProcessState;
  /** The worker thread it runs on; 0 is the main thread. */
  thread: number;
  startedAt: number;
  memory: number;
}

export type ExitListener = (pid: string, result: ExitResult, record: ProcessRecord) => void;

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
    return () => this.#exitListeners.delete(listener);
  }

  info(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const r of this.#procs.values()) {
      if (r.kind === "handle") continue; // the caller's own mailboxes are not listed
      out.push({ pid: r.pid, entry: r.entry, host: r.host, kind: r.kind, state: r.state(), thread: 0, startedAt: r.startedAt, memory: r.memory() });
    }
    return out;
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

  link(a: string, b: string): void {
    const pa = this.#procs.get(a);
    const pb = this.#procs.get(b);
    if (!pa) return;
    if (!pb) {
      const error: ExitError = { kind: "noproc", message: `cannot link to ${b}: no such process` };
      if (pa.trapLinks) {
        pa.mailbox.deliver({ type: "LINK_DOWN", from: b, error });
        return;
      }
      throw new ProcessError("noproc", error.message);
    }
    pa.links.add(b);
    pb.links.add(a);
  }

  unlink(a: string, b: string): void {
    this.#procs.get(a)?.links.delete(b);
    this.#procs.get(b)?.links.delete(a);
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
    const error = "error" in result ? result.error : undefined;
    for (const watcher of rec.monitors) {
      const w = this.#procs.get(watcher);
      if (!w) continue;
      w.mailbox.deliver(error ? { type: "EXIT", from: pid, error } : { type: "EXIT", from: pid, value: (result as { value: unknown }).value });
    }
    rec.monitors.clear();
    for (const other of rec.links) {
      const o = this.#procs.get(other);
      if (!o) continue;
      o.links.delete(pid);
      if (!error) continue;
      if (o.trapLinks) o.mailbox.deliver({ type: "LINK_DOWN", from: pid, error });
      else o.kill({ kind: "link", message: `linked process ${pid} failed (${error.kind}): ${error.message}` });
    }
    rec.links.clear();
    for (const listener of this.#exitListeners) listener(pid, result, rec);
  }
}
