// The process API (SPEC section 4): what TypeScript code holds to act as a
// process — `runtime.process`, `newProcess()`, a `fromProcess` function's
// argument and `processOf(self)` are all this, bound to one process. Every
// operation returns a Promise, so the same API can later serve a process on
// another thread or node; a call made after the process ended rejects with
// ProcessExitError.

import type { AnyActorLogic } from "xstate";
import type { MailboxEvent } from "./events.ts";
import { ProcessError, ProcessExitError, type ExitResult } from "./exit.ts";
import type { ReceiveOptions } from "./mailbox.ts";
import type { ProcessRecord } from "./record.ts";
import type { ProcessTable } from "./table.ts";

export interface SpawnOptions {
  /** Pid that monitors the new process. */
  monitor?: string;
  /** Pid linked to the new process. */
  link?: string;
}

export interface ActorSpawnOptions {
  /** The process host; defaults to the registry's only `process.host`. */
  host?: string;
  input?: unknown;
  /** Deliver the actor's EXIT to the spawning process. */
  monitor?: boolean;
  /** Link the actor to the spawning process. */
  link?: boolean;
}

/** What the API needs from the runtime. */
export interface ProcessCore {
  readonly table: ProcessTable;
  /** Spawns a registry entry (throws a ProcessError when it cannot); on another node the pid comes later. */
  spawn(id: string, host: string, args: unknown[], opts: SpawnOptions): string | Promise<string>;
  /** Spawns TypeScript/XState logic as a process; the first actor of a runtime may wait for XState to load. */
  spawnActor(logic: AnyActorLogic, opts: { host?: string; input?: unknown; entry?: string | null } & SpawnOptions): string | Promise<string>;
  /** A short-lived mailbox process (exec's watcher). */
  newHandle(host: string): { readonly pid: string; readonly mailbox: ProcessRecord["mailbox"]; close(): void };
}

const NEVER = new AbortController().signal;
// settled Promises are immutable: every send can hand out the same two
const SENT = Promise.resolve(true);
const GONE = Promise.resolve(false);

export class ProcessApi {
  /** This process's pid. */
  readonly self: string;
  readonly #core: ProcessCore;
  readonly #rec: ProcessRecord;
  readonly #signal: AbortSignal | undefined;
  readonly #onWait: ((waiting: boolean) => void) | undefined;

  constructor(core: ProcessCore, record: ProcessRecord, opts: { signal?: AbortSignal; onWait?: (waiting: boolean) => void } = {}) {
    this.#core = core;
    this.#rec = record;
    this.self = record.pid;
    this.#signal = opts.signal;
    this.#onWait = opts.onWait;
  }

  /** Aborts when this process has ended (processes with a body; a handle's never aborts). */
  get signal(): AbortSignal {
    return this.#signal ?? NEVER;
  }

  /** Same as `self`. */
  get pid(): string {
    return this.self;
  }

  /** Has this process ended? */
  get ended(): boolean {
    return this.#rec.mailbox.closed;
  }

  #alive(): void {
    const exit = this.#rec.mailbox.endedWith;
    if (exit) throw new ProcessExitError(this.self, exit);
  }

  /** Runs `fn` for a live process, at once; its throw becomes the rejection. */
  #op<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      this.#alive();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  spawn(id: string, host: string, ...args: unknown[]): Promise<string> {
    return this.#op(() => this.#core.spawn(id, host, args, {}));
  }
  spawnMonitored(id: string, host: string, ...args: unknown[]): Promise<string> {
    return this.#op(() => this.#core.spawn(id, host, args, { monitor: this.self }));
  }
  spawnLinked(id: string, host: string, ...args: unknown[]): Promise<string> {
    return this.#op(() => this.#core.spawn(id, host, args, { link: this.self }));
  }
  spawnLinkedMonitored(id: string, host: string, ...args: unknown[]): Promise<string> {
    return this.#op(() => this.#core.spawn(id, host, args, { monitor: this.self, link: this.self }));
  }

  /** Spawns any XState logic (or `fromProcess(fn)`) as a process. */
  spawnActor(logic: AnyActorLogic, opts: ActorSpawnOptions = {}): Promise<string> {
    return this.#op(() =>
      this.#core.spawnActor(logic, {
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...("input" in opts ? { input: opts.input } : {}),
        ...(opts.monitor ? { monitor: this.self } : {}),
        ...(opts.link ? { link: this.self } : {}),
      }),
    );
  }

  /** Spawns, waits for the EXIT and returns the result (a spawn refusal is an EXIT error too). */
  async exec(id: string, host: string, ...args: unknown[]): Promise<ExitResult> {
    this.#alive();
    const watcher = this.#core.newHandle(this.#rec.host);
    try {
      let pid: string;
      try {
        pid = await this.#core.spawn(id, host, args, { monitor: watcher.pid });
      } catch (err) {
        if (err instanceof ProcessError) return { error: err.toExitError() };
        throw err;
      }
      let ev: MailboxEvent | null;
      try {
        ev = await watcher.mailbox.receive({ match: (e) => e.type === "EXIT" && e.from === pid });
      } catch (err) {
        if (err instanceof ProcessExitError) return { error: { kind: err.kind, message: `exec of ${id} was interrupted: ${err.message}` } };
        throw err;
      }
      if (ev?.type !== "EXIT") throw new Error("exec: the watcher received no EXIT"); // receive without timeout only ends with an EXIT
      return "error" in ev ? { error: ev.error } : { value: ev.value };
    } finally {
      watcher.close();
    }
  }

  monitor(pid: string): Promise<void> {
    return this.#op(() => this.#core.table.monitor(this.self, pid));
  }
  unmonitor(pid: string): Promise<void> {
    return this.#op(() => this.#core.table.unmonitor(this.self, pid));
  }
  link(pid: string): Promise<void> {
    return this.#op(() => this.#core.table.link(this.self, pid));
  }
  unlink(pid: string): Promise<void> {
    return this.#op(() => this.#core.table.unlink(this.self, pid));
  }

  /** Forceful: the process ends at once with kind `killed`. */
  terminate(pid: string): Promise<void> {
    return this.#op(() => this.#core.table.terminate(this.self, pid));
  }

  /** Graceful: CANCEL first, then `killed` after `timeoutMs` (default 5 s). */
  cancel(pid: string, reason: unknown = "cancelled", timeoutMs?: number): Promise<void> {
    return this.#op(() => this.#core.table.cancel(this.self, pid, reason, timeoutMs));
  }

  /** `true` once the message is in a live mailbox; `false` when `pid` is gone. */
  send(pid: string, topic: string, payload?: unknown): Promise<boolean> {
    // the hot path of messaging: no closure, no new Promise for the answer
    const exit = this.#rec.mailbox.endedWith;
    if (exit) return Promise.reject(new ProcessExitError(this.self, exit));
    try {
      const sent = this.#core.table.send(this.self, pid, topic, payload);
      return typeof sent === "boolean" ? (sent ? SENT : GONE) : sent;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The next event (or the first `match` accepts); `null` only on timeout. */
  receive(opts?: ReceiveOptions | number): Promise<MailboxEvent | null> {
    const mailbox = this.#rec.mailbox;
    const received = opts === undefined ? mailbox.receiveAny() : mailbox.receive(opts);
    const onWait = this.#onWait;
    if (!onWait) return received;
    // the body waits in receive: its process is suspended until an event (or the timeout) comes
    onWait(true);
    return received.finally(() => onWait(false));
  }

  setOptions(opts: { trapLinks?: boolean }): Promise<void> {
    return this.#op(() => {
      if (opts.trapLinks !== undefined) this.#core.table.setTrapLinks(this.self, opts.trapLinks);
    });
  }
}
