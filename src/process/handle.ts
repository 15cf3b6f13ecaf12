// A host-side process: a mailbox with a pid, from which TypeScript code spawns,
// monitors, links and receives — `runtime.process` is one of these.

import type { ProcessState } from "../../machines/process.ts";
import type { MailboxEvent } from "./events.ts";
import { ProcessError, type ExitError, type ExitResult } from "./exit.ts";
import { ProcessBase } from "./record.ts";
import type { ProcessTable } from "./table.ts";

/** What a handle needs from the runtime. */
export interface Spawner {
  readonly table: ProcessTable;
  spawn(id: string, host: string, args: unknown[], opts: { monitor?: string; link?: string }): string;
  cancel(from: string, pid: string, reason: unknown, timeoutMs?: number): void;
}

export class ProcessHandle extends ProcessBase {
  readonly kind = "handle";
  readonly #rt: Spawner;
  #exit: ExitError | undefined;

  constructor(rt: Spawner, host: string, pid: string) {
    super(pid, "", host);
    this.#rt = rt;
    rt.table.add(this);
  }

  state(): ProcessState {
    return this.#exit ? "closed" : "stepping";
  }

  memory(): number {
    return 0;
  }

  /** Why this handle ended (e.g. a linked process failed), if it has. */
  get exitReason(): ExitError | undefined {
    return this.#exit;
  }

  kill(error: ExitError): void {
    if (this.#exit) return;
    this.#exit = error;
    this.mailbox.close();
    this.#rt.table.exit(this.pid, { error });
  }

  /** Ends this handle normally (monitors get an EXIT with value null). */
  close(result: ExitResult = { value: null }): void {
    if (this.#exit) return;
    this.#exit = "error" in result ? result.error : { kind: "exit", message: "closed" };
    this.mailbox.close();
    this.#rt.table.exit(this.pid, result);
  }

  #alive(): void {
    if (this.#exit) throw new ProcessError(this.#exit.kind, `process ${this.pid} has ended: ${this.#exit.message}`);
  }

  async spawn(id: string, host: string, ...args: unknown[]): Promise<string> {
    this.#alive();
    return this.#rt.spawn(id, host, args, {});
  }
  async spawnMonitored(id: string, host: string, ...args: unknown[]): Promise<string> {
    this.#alive();
    return this.#rt.spawn(id, host, args, { monitor: this.pid });
  }
  async spawnLinked(id: string, host: string, ...args: unknown[]): Promise<string> {
    this.#alive();
    return this.#rt.spawn(id, host, args, { link: this.pid });
  }
  async spawnLinkedMonitored(id: string, host: string, ...args: unknown[]): Promise<string> {
    this.#alive();
    return this.#rt.spawn(id, host, args, { monitor: this.pid, link: this.pid });
  }

  /** Spawns, waits for the EXIT and returns the result. */
  async exec(id: string, host: string, ...args: unknown[]): Promise<ExitResult> {
    this.#alive();
    const watcher = new ProcessHandle(this.#rt, this.host, `${this.pid}#exec${execCounter++}`);
    try {
      let pid: string;
      try {
        pid = this.#rt.spawn(id, host, args, { monitor: watcher.pid });
      } catch (err) {
        if (err instanceof ProcessError) return { error: err.toExitError() };
        throw err;
      }
      for (;;) {
        const ev = await watcher.mailbox.receive();
        if (ev === null) return { error: { kind: "killed", message: "exec was interrupted: the runtime closed" } };
        if (ev.type === "EXIT" && ev.from === pid) return "error" in ev ? { error: ev.error } : { value: ev.value };
      }
    } finally {
      this.#rt.table.exit(watcher.pid, { value: null });
    }
  }

  monitor(pid: string): void {
    this.#alive();
    this.#rt.table.monitor(this.pid, pid);
  }
  unmonitor(pid: string): void {
    this.#rt.table.unmonitor(this.pid, pid);
  }
  link(pid: string): void {
    this.#alive();
    this.#rt.table.link(this.pid, pid);
  }
  unlink(pid: string): void {
    this.#rt.table.unlink(this.pid, pid);
  }

  /** Forceful: the process ends at once with kind `killed`. */
  terminate(pid: string): void {
    this.#rt.table.get(pid)?.kill({ kind: "killed", message: `terminated by ${this.pid}` });
  }

  /** Graceful: CANCEL first, then killed after `timeoutMs` (default 5 s). */
  cancel(pid: string, reason: unknown = "cancelled", timeoutMs?: number): void {
    this.#rt.cancel(this.pid, pid, reason, timeoutMs);
  }

  send(pid: string, topic: string, payload?: unknown): boolean {
    const target = this.#rt.table.get(pid);
    if (!target) return false;
    target.mailbox.deliver({ type: "MESSAGE", from: this.pid, topic, payload });
    return true;
  }

  receive(timeoutMs?: number): Promise<MailboxEvent | null> {
    return this.mailbox.receive(timeoutMs);
  }

  setOptions(opts: { trapLinks?: boolean }): void {
    if (opts.trapLinks !== undefined) this.trapLinks = opts.trapLinks;
  }
}

let execCounter = 0;
