// Restart intensity: more than `intensity` restarts within `period` ms and the
// supervisor gives up (OTP's MaxR / MaxT). The window is a list of timestamps,
// oldest first, pruned on every restart, so it never holds more than
// intensity + 1 entries.

/** The window after a restart at `now`: stamps older than `period` dropped, `now` added. */
export function addRestart(window: readonly number[], now: number, period: number): number[] {
  let first = 0;
  while (first < window.length && now - window[first]! >= period) first++;
  const next = window.slice(first);
  next.push(now);
  return next;
}

/** True when the window holds more restarts than allowed. */
export function exceedsIntensity(window: readonly number[], intensity: number): boolean {
  return window.length > intensity;
}

/** Would one more restart at `now` exceed the limit? (For guards: no mutation.) */
export function wouldExceed(window: readonly number[], now: number, intensity: number, period: number): boolean {
  return exceedsIntensity(addRestart(window, now, period), intensity);
}
