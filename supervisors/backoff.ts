// Restart delays (process.service.lifecycle.restart): exponential from
// initial_delay to max_delay by backoff_factor, spread by ± jitter.
//
// `attempts` counts consecutive restarts of one child. It starts again at 1
// once the child has run stably, which we define as having run for at least
// max(max_delay, STABLE_MIN_MS) before it ended: a child that outlives the
// longest delay it could have waited is not in a crash loop. The floor keeps
// max_attempts meaningful when there is no backoff (max_delay 0).

import type { RestartConfig } from "../src/registry/types.ts";

export const STABLE_MIN_MS = 1000;

export { DEFAULT_RESTART } from "./rules.ts";

/** Delay before restart number `attempt` (1-based) of a run of failures. */
export function backoffDelay(cfg: RestartConfig, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(cfg.maxDelay, cfg.initialDelay * cfg.backoffFactor ** exponent);
  const spread = cfg.jitter > 0 ? base * cfg.jitter * (2 * random() - 1) : 0;
  return Math.max(0, Math.round(base + spread));
}

/** How long a child must run before its failures count from the start again. */
export function stableAfter(cfg: RestartConfig): number {
  return Math.max(cfg.maxDelay, STABLE_MIN_MS);
}

/** The attempt number of the restart after a run of `ranMs` that ended a run of `previous` attempts. */
export function nextAttempt(cfg: RestartConfig, previous: number, ranMs: number): number {
  return ranMs >= stableAfter(cfg) ? 1 : previous + 1;
}

/** True when this attempt is past `max_attempts` (unlimited when unset). */
export function attemptsExhausted(cfg: RestartConfig, attempt: number): boolean {
  return cfg.maxAttempts !== undefined && attempt > cfg.maxAttempts;
}
