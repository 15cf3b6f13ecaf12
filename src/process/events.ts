// What arrives in a mailbox (SPEC section 4).

import type { ExitError } from "./exit.ts";

export type ExitEvent =
  | { type: "EXIT"; from: string; value: unknown }
  | { type: "EXIT"; from: string; error: ExitError };
export type LinkDownEvent = { type: "LINK_DOWN"; from: string; error: ExitError };
export type CancelEvent = { type: "CANCEL"; from: string; reason: unknown };
export type MessageEvent = { type: "MESSAGE"; from: string; topic: string; payload: unknown };

export type MailboxEvent = ExitEvent | LinkDownEvent | CancelEvent | MessageEvent;
