// What every process in the table carries, whatever runs inside it (a WASM
// guest, TypeScript/XState logic, a supervisor, a caller's own mailbox):
// identity, a bounded mailbox, monitors and links. The kinds differ only in the
// body that runs, how they report their state and how they end.

import type { AnyActorRef } from "xstate";
import type { ProcessState } from "../../machines/process.ts";
import type { ProcessMessageEvent } from "./events.ts";
import type { ExitError } from "./exit.ts";
import { Mailbox } from "./mailbox.ts";

/** `handle`: a caller's own mailbox (`runtime.process`, `newProcess()`), not listed by `processes()`. */
export type ProcessKind = "wasm" | "lua" | "actor" | "supervisor" | "handle";

export interface ProcessRecord {
  readonly pid: string;
  /** The entry ID; null for anonymous TypeScript logic and for handles. */
  readonly entry: string | null;
  readonly host: string;
  readonly kind: ProcessKind;
  /** 0: the main thread. */
  readonly thread: number;
  readonly startedAt: number;
  readonly mailbox: Mailbox;
  /** Pids monitoring this process (made at first use). */
  readonly monitors: Set<string>;
  /** Made at first use. */
  readonly links: Set<string>;
  /** Its monitors and links if it has had any, without making them (for its end). */
  readonly watchers: { monitors: Set<string> | undefined; links: Set<string> | undefined };
  trapLinks: boolean;
  /** Its messages cross as bytes or JSON (a guest): `send` encodes payloads (wire.ts) and refuses what cannot cross. */
  readonly wire: boolean;
  /**
   * Set for a process on another thread: a MESSAGE goes there, and the Promise
   * settles once that thread has put it in the mailbox (true), found the process
   * gone (false) or the mailbox full (MailboxFullError).
   */
  readonly forward?: (event: ProcessMessageEvent) => Promise<boolean>;
  /** The kill timer of a pending cancel; cleared when the process ends. */
  cancelTimer: ReturnType<typeof setTimeout> | undefined;
  state(): ProcessState;
  memory(): number;
  /** Ends the process at once with this error (a no-op once it has ended). */
  kill(error: ExitError): void;
  /** After a CANCEL was delivered: a body that cannot receive ends at its next wait. */
  cancelled(from: string, reason: unknown): void;
  /** The actor inspection shows for this process, if it has one now. */
  actor(): AnyActorRef | undefined;
}

export abstract class ProcessBase implements ProcessRecord {
  readonly pid: string;
  readonly entry: string | null;
  readonly host: string;
  abstract readonly kind: ProcessKind;
  readonly thread: number = 0;
  readonly wire: boolean = false;
  readonly startedAt = Date.now();
  readonly mailbox: Mailbox;
  #monitors: Set<string> | undefined;
  #links: Set<string> | undefined;
  trapLinks: boolean;
  cancelTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(pid: string, entry: string | null, host: string, opts: { trapLinks?: boolean; maxMailbox?: number } = {}) {
    this.pid = pid;
    this.entry = entry;
    this.host = host;
    this.trapLinks = opts.trapLinks ?? false;
    this.mailbox = new Mailbox(pid, opts.maxMailbox);
  }

  // made at first use: most processes are never linked, and many never monitored
  get monitors(): Set<string> {
    return (this.#monitors ??= new Set());
  }

  get links(): Set<string> {
    return (this.#links ??= new Set());
  }

  get watchers(): { monitors: Set<string> | undefined; links: Set<string> | undefined } {
    return { monitors: this.#monitors, links: this.#links };
  }

  abstract state(): ProcessState;
  abstract memory(): number;
  abstract kill(error: ExitError): void;
  cancelled(_from: string, _reason: unknown): void {}
  actor(): AnyActorRef | undefined {
    return undefined;
  }
}
