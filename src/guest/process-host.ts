// The process API inside a guest (SPEC section 7), bound to one WASM process and
// independent of how the guest calls it: the core-module ABI (core-abi.ts) and the
// component interface (component-abi.ts) are two thin bindings of this. A refused
// call is a GuestError the bindings turn into an error value in the guest; it never
// traps the guest.

import type { MailboxEvent } from "../process/events.ts";
import { MailboxFullError, ProcessError, type ExitError } from "../process/exit.ts";
import type { Mailbox } from "../process/mailbox.ts";
import type { SpawnOptions } from "../process/api.ts";
import type { ProcessTable } from "../process/table.ts";
import { Wire, parseJson, type WireFormat } from "../process/wire.ts";
import { maySpawn, spawnRefusal } from "../registry/spawn-rights.ts";

/** The error cases of the WIT interface, in its order (core codes are -1 - index). */
export const GUEST_ERROR_CODES = ["noproc", "mailbox-full", "denied", "invalid", "spawn"] as const;
export type GuestErrorCode = (typeof GUEST_ERROR_CODES)[number];

export class GuestError extends Error {
  readonly code: GuestErrorCode;
  constructor(code: GuestErrorCode, message: string) {
    super(message);
    this.name = "GuestError";
    this.code = code;
  }
}

export type SpawnMode = "spawn" | "spawn-monitored" | "spawn-linked" | "spawn-linked-monitored";

/** What the guest's process is to this API. */
export interface GuestSelf {
  readonly pid: string;
  readonly entry: string | null;
  readonly host: string;
  readonly mailbox: Mailbox;
  /** The value it ends with on a normal return (set-result). */
  setResult(value: unknown): void;
  /** Around a wait in receive: the process is suspended, then steps again (this throws if it ended meanwhile). */
  suspend(): void;
  resume(): void;
}

/** What the API needs from the runtime (on a worker thread, answers come later: Promises). */
export interface GuestCore {
  readonly table: ProcessTable;
  spawn(id: string, host: string, args: unknown[], opts: SpawnOptions): string | Promise<string>;
  /** On a worker thread: send, spawn and link are answered by another thread. */
  readonly answersLater?: boolean;
}

const MAX_TIMEOUT = 2 ** 32 - 1;

/** What the table throws, as the guest's error case; undefined for anything else (a bug, a trap: it propagates). */
function asGuestError(err: unknown): GuestError | undefined {
  if (err instanceof GuestError) return err;
  if (err instanceof MailboxFullError) return new GuestError("mailbox-full", err.message);
  if (err instanceof TypeError || err instanceof RangeError) return new GuestError("invalid", err.message);
  if (err instanceof ProcessError) return new GuestError(err.kind === "noproc" ? "noproc" : "spawn", err.message);
  return undefined;
}

/** Rethrows what the table threw as the guest's error case. */
function refusal(err: unknown): never {
  throw asGuestError(err) ?? err;
}



export class GuestProcess {
  readonly #core: GuestCore;
  readonly #self: GuestSelf;
  readonly #spawnRights: readonly string[] | undefined;
  /** The message of the last refused call (core modules read it with last-error). */
  lastError = "";

  constructor(core: GuestCore, self: GuestSelf, spawnRights: readonly string[] | undefined) {
    this.#core = core;
    this.#self = self;
    this.#spawnRights = spawnRights;
  }

  get pid(): string {
    return this.#self.pid;
  }

  /** send, spawn and link may return Promises (the process runs on a worker thread): the bindings let the guest suspend on them. */
  get answersLater(): boolean {
    return this.#core.answersLater === true;
  }

  /**
   * A call's answer, its refusal as the guest's error case whether it came at once
   * or later; while another thread answers, the process is suspended, and a
   * process that ended meanwhile unwinds when it resumes.
   */
  #answer<T>(call: () => T | Promise<T>): T | Promise<T> {
    let out: T | Promise<T>;
    try {
      out = call();
    } catch (err) {
      return refusal(err);
    }
    if (!(out instanceof Promise)) return out;
    const self = this.#self;
    self.suspend();
    return out.then(
      (v) => {
        self.resume();
        return v;
      },
      (err: unknown) => {
        self.resume();
        return refusal(err);
      },
    );
  }

  /** Returns what a refused call throws after noting its message. */
  fail(err: unknown): GuestError {
    const e = asGuestError(err);
    if (!e) throw err;
    this.lastError = e.message;
    return e;
  }

  /** true: in a live mailbox; false: `to` is gone. A Promise when `to` is on another thread. */
  send(to: string, topic: string, format: WireFormat, bytes: Uint8Array): boolean | Promise<boolean> {
    const parsed = format === "json" ? parseJson(bytes) : undefined;
    if (format === "json" && !parsed) throw new GuestError("invalid", `send to ${to}: the payload is not one JSON value; send valid JSON text or use format bytes`);
    return this.#answer(() => this.#core.table.send(this.#self.pid, to, topic, new Wire(format, bytes, parsed)));
  }


  /**
   * The next event, mapped by `then`; null on timeout. undefined timeout: wait for
   * ever; 0: poll. An event already queued is mapped at once (no suspension);
   * otherwise a Promise (the one a suspended guest waits on), and the process is
   * suspended until it settles.
   */
  receive<T>(timeoutMs: number | undefined, then: (event: MailboxEvent | null) => T): T | Promise<T> {
    const mailbox = this.#self.mailbox;
    const ready = mailbox.poll();
    if (ready !== undefined || timeoutMs === 0) return then(ready ?? null);
    const self = this.#self;
    self.suspend();
    const t = timeoutMs === undefined ? undefined : Math.min(timeoutMs, MAX_TIMEOUT);
    return new Promise<T>((resolve, reject) => {
      mailbox.wait(
        t,
        (event) => {
          try {
            self.resume(); // throws if the process ended meanwhile: the guest unwinds
            resolve(then(event));
          } catch (err) {
            reject(err);
          }
        },
        (err) => {
          try {
            self.resume(); // the process has ended: this throws, and the guest unwinds
          } catch (ended) {
            err = ended;
          }
          reject(err);
        },
      );
    });
  }

  spawn(mode: SpawnMode, entry: string, host: string, argsJson: string): string | Promise<string> {
    if (!maySpawn(this.#spawnRights, entry)) throw new GuestError("denied", spawnRefusal(this.#self.entry ?? this.#self.pid, entry));
    let args: unknown;
    try {
      args = JSON.parse(argsJson === "" ? "[]" : argsJson);
    } catch {
      throw new GuestError("invalid", `spawn ${entry}: the arguments must be the JSON text of an array (e.g. [6, 7]), got ${JSON.stringify(argsJson.slice(0, 80))}`);
    }
    if (!Array.isArray(args)) throw new GuestError("invalid", `spawn ${entry}: the arguments must be a JSON array (e.g. [6, 7]), got ${argsJson.slice(0, 80)}`);
    const self = this.#self.pid;
    const opts: SpawnOptions = {};
    if (mode === "spawn-monitored" || mode === "spawn-linked-monitored") opts.monitor = self;
    if (mode === "spawn-linked" || mode === "spawn-linked-monitored") opts.link = self;
    return this.#answer(() => this.#core.spawn(entry, host === "" ? this.#self.host : host, args, opts));
  }

  monitor(pid: string): void {
    this.#core.table.monitor(this.#self.pid, pid);
  }

  unmonitor(pid: string): void {
    this.#core.table.unmonitor(this.#self.pid, pid);
  }

  link(pid: string): void | Promise<void> {
    return this.#answer(() => this.#core.table.link(this.#self.pid, pid));
  }

  unlink(pid: string): void {
    this.#core.table.unlink(this.#self.pid, pid);
  }

  cancel(pid: string, reason: string): void {
    this.#core.table.cancel(this.#self.pid, pid, reason);
  }

  terminate(pid: string): void {
    this.#core.table.terminate(this.#self.pid, pid);
  }

  setTrapLinks(trap: boolean): void {
    this.#core.table.setTrapLinks(this.#self.pid, trap);
  }

  setResult(format: WireFormat, bytes: Uint8Array): void {
    if (format === "bytes") {
      this.#self.setResult(bytes.slice());
      return;
    }
    const parsed = parseJson(bytes);
    if (!parsed) throw new GuestError("invalid", "set-result: the payload is not one JSON value; give valid JSON text or use format bytes");
    this.#self.setResult(parsed.value);
  }
}

/** An EXIT error or LINK_DOWN as the guest sees it. */
export function errorJson(error: ExitError): string {
  return JSON.stringify({ kind: error.kind, message: error.message });
}
