// What arrives in a mailbox (SPEC section 4).

import type { ExitError } from "./exit.ts";

export type ExitEvent =
  | { type: "EXIT"; from: string; value: unknown }
  | { type: "EXIT"; from: string; error: ExitError };
export type LinkDownEvent = { type: "LINK_DOWN"; from: string; error: ExitError };
export type CancelEvent = { type: "CANCEL"; from: string; reason: unknown };
/** A message sent with `send(pid, topic, payload)`. */
export type ProcessMessageEvent = { type: "MESSAGE"; from: string; topic: string; payload: unknown };

/** EXIT, LINK_DOWN and CANCEL: never dropped, never counted against max_mailbox. */
export type SystemEvent = ExitEvent | LinkDownEvent | CancelEvent;
export type MailboxEvent = SystemEvent | ProcessMessageEvent;

const RESERVED_TOPICS = new Set(["EXIT", "LINK_DOWN", "CANCEL", "MESSAGE", "*"]);

// The last two topics found good (seeded with a good one): a sender mostly repeats a
// few topics, so the usual check is one comparison; a string found good stays good.
let goodTopic = "message";
let goodTopic2 = "message";

/** Topics `send` refuses: the event types of the mailbox, the wildcard and XState's own. */
export function checkTopic(topic: unknown): asserts topic is string {
  if (topic === goodTopic || topic === goodTopic2) return;
  if (typeof topic !== "string" || topic === "") throw new TypeError(`send: topic must be a non-empty string, got ${typeof topic === "string" ? '""' : typeof topic}`);
  if (RESERVED_TOPICS.has(topic) || topic.startsWith("xstate.")) {
    throw new TypeError(`send: topic ${JSON.stringify(topic)} is reserved (EXIT, LINK_DOWN, CANCEL, MESSAGE, * and xstate.* are the runtime's own); pick another topic`);
  }
  goodTopic2 = goodTopic;
  goodTopic = topic;
}

export function exitEvent(from: string, result: { value: unknown } | { error: ExitError }): ExitEvent {
  return "error" in result ? { type: "EXIT", from, error: result.error } : { type: "EXIT", from, value: result.value };
}
