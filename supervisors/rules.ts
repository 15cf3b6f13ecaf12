// The supervision rules shared by the YAML registry (src/registry/kinds.ts) and
// trees built in code (supervisors/spec.ts): defaults and the checks of restart,
// supervisor and child settings, with one message per problem. Each path names
// the field its own way (YAML `lifecycle.restart.initial_delay`, code
// `restart.initialDelay`); the message after the field is the same in both.

import { checkNumber, describeGiven, suggest } from "../src/registry/fields.ts";
import type { RestartConfig, RestartPolicy, Strategy } from "../src/registry/types.ts";
import { parseDuration } from "../src/registry/units.ts";

type Result<T> = { ok: true; value: T } | { ok: false; message: string };

export const DEFAULT_RESTART: Readonly<RestartConfig> = Object.freeze({
  policy: "permanent",
  initialDelay: 100,
  maxDelay: 30_000,
  backoffFactor: 2,
  jitter: 0.1,
});
/** A nested supervisor comes back at once by default: it has its own intensity. */
export const DEFAULT_SUPERVISOR_RESTART: Readonly<RestartConfig> = Object.freeze({ ...DEFAULT_RESTART, initialDelay: 0 });
export const DEFAULT_INTENSITY = 3;
export const DEFAULT_PERIOD_MS = 5000;
export const DEFAULT_STOP_TIMEOUT_MS = 5000;
export const DEFAULT_STRATEGY: Strategy = "one_for_one";

export const RESTART_POLICIES: readonly RestartPolicy[] = ["permanent", "transient", "temporary"];
export const STRATEGIES: readonly Strategy[] = ["one_for_one", "one_for_all", "rest_for_one"];

export type RestartField = "policy" | "initialDelay" | "maxDelay" | "backoffFactor" | "jitter" | "maxAttempts";
export type RuleField = RestartField | "strategy" | "intensity" | "period" | "stopTimeout" | "placement";
export const RESTART_FIELDS: readonly RestartField[] = ["policy", "initialDelay", "maxDelay", "backoffFactor", "jitter", "maxAttempts"];

/** How the YAML spells each field. */
export const YAML_FIELD: Readonly<Record<RuleField, string>> = {
  policy: "policy",
  initialDelay: "initial_delay",
  maxDelay: "max_delay",
  backoffFactor: "backoff_factor",
  jitter: "jitter",
  maxAttempts: "max_attempts",
  strategy: "strategy",
  intensity: "intensity",
  period: "period",
  stopTimeout: "stop_timeout",
  placement: "placement",
};

/** Where a child on another node restarts (section 9): `local`, on the node it was placed on; `any`, on a node that is up. */
export type Placement = "local" | "any";
export const PLACEMENTS: readonly Placement[] = ["local", "any"];
export const DEFAULT_PLACEMENT: Placement = "local";

export interface RuleProblem {
  field: RuleField;
  message: string;
}

/** Settings as written (YAML scalars after `${env:...}`, or values given in code); undefined: not given. */
export type RestartGiven = Partial<Record<RestartField, unknown>>;

export interface Checked<T> {
  value: T;
  problems: RuleProblem[];
}

/** A restart config from what was given, the rest from `base`; initial delay above max delay is a problem. */
export function checkRestart(given: RestartGiven, base: Readonly<RestartConfig> = DEFAULT_RESTART): Checked<RestartConfig> {
  const problems: RuleProblem[] = [];
  const pick = <T>(field: RestartField, check: (v: unknown) => Result<T>, fallback: T): T => {
    if (given[field] === undefined) return fallback;
    const result = check(given[field]);
    if (result.ok) return result.value;
    problems.push({ field, message: result.message });
    return fallback;
  };
  const config: RestartConfig = {
    policy: pick("policy", (v) => choice(v, RESTART_POLICIES), base.policy),
    initialDelay: pick("initialDelay", (v) => duration(v, false), base.initialDelay),
    maxDelay: pick("maxDelay", (v) => duration(v, false), base.maxDelay),
    backoffFactor: pick("backoffFactor", (v) => checkNumber(v, { min: 1 }), base.backoffFactor),
    jitter: pick("jitter", (v) => checkNumber(v, { min: 0, max: 1 }), base.jitter),
  };
  const maxAttempts = pick<number | undefined>("maxAttempts", (v) => checkNumber(v, { integer: true, min: 1 }), base.maxAttempts);
  if (maxAttempts !== undefined) config.maxAttempts = maxAttempts;
  const delaysValid = !problems.some((p) => p.field === "initialDelay" || p.field === "maxDelay");
  if (delaysValid && config.initialDelay > config.maxDelay) {
    problems.push({
      field: "initialDelay",
      message: `(${config.initialDelay}ms) must not exceed the maximum delay (${config.maxDelay}ms); raise the maximum delay or lower the initial delay`,
    });
  }
  return { value: config, problems };
}

export interface SupervisorSettings {
  strategy: Strategy;
  intensity: number;
  period: number;
}

/** strategy, intensity and period (a duration, milliseconds when a plain number); defaults for what is not given. */
export function checkSupervisorSettings(given: { strategy?: unknown; intensity?: unknown; period?: unknown }): Checked<SupervisorSettings> {
  const problems: RuleProblem[] = [];
  const value: SupervisorSettings = { strategy: DEFAULT_STRATEGY, intensity: DEFAULT_INTENSITY, period: DEFAULT_PERIOD_MS };
  const take = <T>(field: RuleField, result: Result<T> | undefined, set: (v: T) => void): void => {
    if (result === undefined) return;
    if (result.ok) set(result.value);
    else problems.push({ field, message: result.message });
  };
  take("strategy", given.strategy === undefined ? undefined : choice(given.strategy, STRATEGIES), (v) => (value.strategy = v));
  take("intensity", given.intensity === undefined ? undefined : checkNumber(given.intensity, { integer: true, min: 0 }), (v) => (value.intensity = v));
  take("period", given.period === undefined ? undefined : duration(given.period, true), (v) => (value.period = v));
  return { value, problems };
}

/** A child's stop timeout: a duration (milliseconds when a plain number), `fallback` when not given. */
export function checkStopTimeout(given: unknown, fallback: number = DEFAULT_STOP_TIMEOUT_MS): Checked<number> {
  if (given === undefined) return { value: fallback, problems: [] };
  const ms = duration(given, false);
  return ms.ok ? { value: ms.value, problems: [] } : { value: fallback, problems: [{ field: "stopTimeout", message: ms.message }] };
}

/** A child's placement, `local` when not given. */
export function checkPlacement(given: unknown): Checked<Placement> {
  if (given === undefined) return { value: DEFAULT_PLACEMENT, problems: [] };
  const c = choice(given, PLACEMENTS);
  return c.ok ? { value: c.value, problems: [] } : { value: DEFAULT_PLACEMENT, problems: [{ field: "placement", message: c.message }] };
}

/** Keys of a restart object given in code that are not restart fields, with the message YAML gives an unknown field. */
export function unknownRestartKeys(given: object): { key: string; message: string }[] {
  return Object.keys(given)
    .filter((key) => !(RESTART_FIELDS as readonly string[]).includes(key))
    .map((key) => ({ key, message: `unknown field${suggest(key, RESTART_FIELDS) || ` (known fields: ${RESTART_FIELDS.join(", ")})`}` }));
}

// Each check returns the value or the problem's message.

function choice<T extends string>(value: unknown, choices: readonly T[]): Result<T> {
  if (typeof value !== "string") return { ok: false, message: `must be one of ${choices.join(", ")} (got ${describeGiven(value)})` };
  if ((choices as readonly string[]).includes(value)) return { ok: true, value: value as T };
  return { ok: false, message: `"${value}" is not one of ${choices.join(", ")}${suggest(value, choices)}` };
}

function duration(value: unknown, positive: boolean): Result<number> {
  const parsed = parseDuration(value);
  if (parsed.ok && positive && parsed.value <= 0) return { ok: false, message: `must be greater than zero (got ${describeGiven(value)})` };
  return parsed;
}
