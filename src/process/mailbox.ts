// A process's mailbox: events queue until `receive` takes them in order.

import type { MailboxEvent } from "./events.ts";

interface Waiter {
  resolve: (event: MailboxEvent | null) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Mailbox {
  readonly #queue: MailboxEvent[] = [];
  #head = 0;
  readonly #waiters: Waiter[] = [];
  #closed = false;
  /** Called for every delivered event before it is queued (supervisors react without polling). */
  listener: ((event: MailboxEvent) => boolean) | undefined;

  get size(): number {
    return this.#queue.length - this.#head;
  }

  deliver(event: MailboxEvent): void {
    if (this.#closed) return;
    if (this.listener?.(event)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(event);
      return;
    }
    this.#queue.push(event);
  }

  /** Next event; `null` after `timeoutMs` without one, or once the mailbox is closed. */
  receive(timeoutMs?: number): Promise<MailboxEvent | null> {
    if (this.#head < this.#queue.length) {
      const event = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as never;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      return Promise.resolve(event);
    }
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, timer: undefined };
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve(null);
        }, Math.max(0, timeoutMs));
      }
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(null);
    }
  }
}
