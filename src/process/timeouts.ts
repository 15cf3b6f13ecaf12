// Timeouts of the process API: a finite number of milliseconds ≥ 0 (SPEC section 4).

/** Throws a RangeError naming the call when `value` is not a finite number ≥ 0. */
export function checkTimeout(call: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${call}: the timeout must be a finite number of milliseconds ≥ 0, got ${typeof value === "number" ? String(value) : typeof value}`);
  }
  return value;
}
