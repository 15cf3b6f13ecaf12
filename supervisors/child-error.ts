// The refusal of a child request (SPEC 4.3), as OTP's supervisor answers
// {error, already_started | already_present | running | restarting | not_found}.

import type { ChildErrorCode } from "./bookkeeping.ts";

export class ChildError extends Error {
  /** already_started · already_present · running · restarting · not_found */
  readonly code: ChildErrorCode;
  constructor(code: ChildErrorCode, message: string) {
    super(message);
    this.name = "ChildError";
    this.code = code;
  }
}
