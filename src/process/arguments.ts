// The process API's argument rules (SPEC section 4), in one place for every call
// that takes them: a wrong argument is a TypeError or RangeError at the call,
// naming the call and what it got, never a confusing failure further down.

import { jsonText } from "./exit.ts";

/** A value as an error message shows it: short, and never throws. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return String(value); // null, undefined, numbers, booleans, symbols
}

/** An entry or host ID: a string (`ns:name`); whether it exists is the caller's next check. */
export function checkId(call: string, what: "entry id" | "function id" | "host id", value: unknown): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${call}: ${what} must be a string like ns:name, got ${describeValue(value)}`);
}

/**
 * A timeout in milliseconds: a finite number ≥ 0, or undefined where the call has a
 * default (wait forever, or its default timeout). NaN, negatives and Infinity would
 * otherwise mean "wait forever" by accident.
 */
export function checkTimeout(call: string, value: unknown): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${call}: timeoutMs must be a finite number of milliseconds ≥ 0${call === "receive" ? " (leave it out to wait forever)" : ""}, got ${describeValue(value)}`);
  }
}

/** The EXIT message of a cancelled process, from any cancel reason: one that cannot be serialised still cancels. */
export function cancelMessage(reason: unknown): string {
  if (reason === undefined) return "cancelled";
  if (typeof reason === "string") return reason;
  if (reason instanceof Error) return reason.message;
  const json = jsonText(reason);
  if (json !== undefined) return json;
  return typeof reason === "object" || typeof reason === "function" ? `cancelled (the reason, ${describeValue(reason)}, could not be serialised)` : String(reason);
}
