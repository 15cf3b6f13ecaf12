// A process's mailbox: bounded for messages, selective on receive (SPEC 4.1, 4.4).
// Messages count against the capacity; EXIT, LINK_DOWN and CANCEL never do and
// are never dropped. A receive takes the first queued event its `match` accepts
// and leaves the others in arrival order, as Erlang's selective receive does.

import type { MailboxEvent } from "./events.ts";
import { ProcessExitError, type ExitError } from "./exit.ts";
import { checkTimeout } from "./arguments.ts";

export const DEFAULT_MAX_MAILBOX = 10_000;

export interface ReceiveOptions {
  /** Only events for which this is true are taken; the others stay queued in order. */
  match?: (event: MailboxEvent) => boolean;
  /** ms; `null` is returned when nothing matched in time. Absent: wait for ever. */
  timeout?: number;
  /** Aborting rejects the receive with the signal's reason. */
  signal?: AbortSignal;
}

interface Waiter {
  match: ((event: MailboxEvent) => boolean) | undefined;
  resolve: (event: MailboxEvent | null) => void;
  reject: (err: unknown) => void;
  /** Only when asked for: a plain receive makes no timer and no listener. */
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A waiter is settled: its timer and abort listener go. */
function settled(w: Waiter): void {
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
}

export type DeliverOutcome = "queued" | "full" | "closed";

export class Mailbox {
  readonly #owner: string;
  readonly capacity: number;
  #queue: MailboxEvent[] = [];
  #head = 0;
  #messages = 0;
  readonly #waiters: Waiter[] = [];
  /**
   * The oldest waiter, when it is a plain receive (no match, timer or signal) made while
   * none waited: held as its two functions, no Waiter, and served before #waiters.
   */
  #lone: ((event: MailboxEvent | null) => void) | undefined;
  #loneReject: ((err: unknown) => void) | undefined;
  #ended: ExitError | undefined;
  /**
   * A body that consumes events as they arrive (a machine, a supervisor) sets
   * this; it returns true when it took the event, which is then not queued.
   */
  listener: ((event: MailboxEvent) => boolean) | undefined;

  constructor(owner: string, capacity = DEFAULT_MAX_MAILBOX) {
    this.#owner = owner;
    this.capacity = capacity;
  }

  /** Queued events, messages and system events alike. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  get closed(): boolean {
    return this.#ended !== undefined;
  }

  /** How the owner ended, once it has. */
  get endedWith(): ExitError | undefined {
    return this.#ended;
  }

  /** Delivers an event; a message to a full mailbox is refused and nothing is enqueued. */
  deliver(event: MailboxEvent): DeliverOutcome {
    if (this.#ended) return "closed";
    const message = event.type === "MESSAGE";
    if (message && this.#messages >= this.capacity) return "full";
    if (this.listener?.(event)) return "queued";
    const lone = this.#lone;
    if (lone !== undefined) {
      this.#lone = this.#loneReject = undefined;
      lone(event);
      return "queued";
    }
    return this.#toWaiters(event, message);
  }

  // apart from deliver, which stays small enough to be inlined into send
  #toWaiters(event: MailboxEvent, message: boolean): DeliverOutcome {
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i]!;
      let taken: boolean;
      try {
        taken = w.match === undefined || w.match(event);
      } catch (err) {
        // a match that throws rejects its own receive, never the sender's delivery
        this.#waiters.splice(i--, 1);
        settled(w);
        w.reject(err);
        continue;
      }
      if (!taken) continue;
      // the usual case is one waiter: pop keeps the array's room for the next one
      if (this.#waiters.length === 1) this.#waiters.pop();
      else if (i === 0) this.#waiters.shift();
      else this.#waiters.splice(i, 1);
      settled(w);
      w.resolve(event);
      return "queued";
    }
    this.#queue.push(event);
    if (message) this.#messages++;
    return "queued";
  }

  /** The first queued event `match` accepts (or the first one); `null` after the timeout. */
  receive(opts?: ReceiveOptions | number): Promise<MailboxEvent | null> {
    if (opts === undefined) return this.receiveAny();
    // anything but an options object is a timeout (checked below), never destructured
    const { match, timeout, signal }: ReceiveOptions = typeof opts === "object" && opts !== null ? opts : { timeout: opts as number };
    try {
      if (timeout !== undefined) checkTimeout("receive", timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    if (match !== undefined && typeof match !== "function") return Promise.reject(new TypeError("receive: match must be a function of the event"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      const found = this.#take(match);
      if (found !== undefined) return Promise.resolve(found);
    } catch (err) {
      return Promise.reject(err);
    }
    // ended: what arrived before the end can still be read; then receive rejects, it never waits
    if (this.#ended) return Promise.reject(new ProcessExitError(this.#owner, this.#ended));
    if (timeout === 0) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { match, resolve, reject, timer: undefined, signal, onAbort: undefined };
      if (timeout !== undefined) {
        waiter.timer = setTimeout(() => {
          this.#drop(waiter);
          resolve(null);
        }, timeout);
      }
      if (signal) {
        waiter.onAbort = () => {
          this.#drop(waiter);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** receive() with no options, the common case: no option checks, no timer, no listener. */
  receiveAny(): Promise<MailboxEvent | null> {
    if (this.#head < this.#queue.length) return Promise.resolve(this.#take(undefined)!);
    if (this.#lone === undefined && this.#waiters.length === 0 && this.#ended === undefined) {
      return new Promise((resolve, reject) => {
        this.#lone = resolve;
        this.#loneReject = reject;
      });
    }
    return new Promise((resolve, reject) => this.wait(undefined, resolve, reject));
  }

  /**
   * A plain receive without a Promise of its own, for a caller that has polled already
   * (a guest's receive makes the one Promise JSPI waits on): `resolve` gets the next
   * event, or null after `timeout` ms; `reject` a ProcessExitError once the owner ends.
   */
  wait(timeout: number | undefined, resolve: (event: MailboxEvent | null) => void, reject: (err: unknown) => void): void {
    if (this.#ended) {
      reject(new ProcessExitError(this.#owner, this.#ended));
      return;
    }
    if (timeout === undefined && this.#lone === undefined && this.#waiters.length === 0) {
      this.#lone = resolve;
      this.#loneReject = reject;
      return;
    }
    const waiter: Waiter = { match: undefined, resolve, reject, timer: undefined, signal: undefined, onAbort: undefined };
    if (timeout !== undefined) {
      waiter.timer = setTimeout(() => {
        this.#drop(waiter);
        resolve(null);
      }, timeout);
    }
    this.#waiters.push(waiter);
  }

  /** The first queued event, taken at once; undefined when none is queued. */
  poll(): MailboxEvent | undefined {
    return this.#head < this.#queue.length ? this.#take(undefined) : undefined;
  }

  /**
   * The process has ended: waiting receivers reject with ProcessExitError and later
   * deliveries are dropped. Events that arrived before stay readable (a caller's own
   * handle keeps the EXITs it was sent up to the runtime's close); they go with the process.
   */
  close(exit: ExitError): void {
    if (this.#ended) return;
    this.#ended = exit;
    this.listener = undefined;
    const lone = this.#loneReject;
    if (lone !== undefined) {
      this.#lone = this.#loneReject = undefined;
      lone(new ProcessExitError(this.#owner, exit));
    }
    for (const w of this.#waiters.splice(0)) {
      settled(w);
      w.reject(new ProcessExitError(this.#owner, exit));
    }
  }

  #drop(waiter: Waiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    settled(waiter);
  }

  #take(match: ((event: MailboxEvent) => boolean) | undefined): MailboxEvent | undefined {
    const q = this.#queue;
    for (let i = this.#head; i < q.length; i++) {
      const event = q[i]!;
      if (match && !match(event)) continue;
      if (i === this.#head) {
        q[this.#head++] = undefined as unknown as MailboxEvent;
        if (this.#head > 1024 && this.#head * 2 > q.length) {
          q.splice(0, this.#head);
          this.#head = 0;
        }
      } else {
        q.splice(i, 1);
      }
      if (event.type === "MESSAGE") this.#messages--;
      return event;
    }
    return undefined;
  }
}
