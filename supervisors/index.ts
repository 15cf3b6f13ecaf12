// Supervision logic without a runtime: specs, strategies, restart types,
// intensity, backoff and the bookkeeping that combines them.
export { planRestart, type RestartPlan } from "./strategies.ts";
export { shouldRestart, isNormalExit } from "./restart-policy.ts";
export { addRestart, exceedsIntensity, wouldExceed } from "./intensity.ts";
export { backoffDelay, stableAfter, nextAttempt, attemptsExhausted, STABLE_MIN_MS } from "./backoff.ts";
export {
  DEFAULT_RESTART, DEFAULT_SUPERVISOR_RESTART, DEFAULT_INTENSITY, DEFAULT_PERIOD_MS, DEFAULT_STOP_TIMEOUT_MS, DEFAULT_STRATEGY,
  checkRestart, checkSupervisorSettings, checkStopTimeout, YAML_FIELD, type RuleProblem, type RuleField,
} from "./rules.ts";
export {
  normalizeSupervisor, normalizeChild, SupervisorSpecError,
  type Duration, type RestartInput, type ChildSpec, type ServiceChildSpec, type SupervisorChildSpec, type CustomChildSpec, type SupervisorSpec,
  type ChildInput, type ServiceChildInput, type ActorChildInput, type SupervisorChildInput, type CustomChildInput, type ActorChildSpec,
  type SupervisorInput, type NormalizeOptions,
} from "./spec.ts";
export {
  newBook, childInfo, countChildren, findChild, isIdle, nextRestartAt, describeExit,
  type Book, type ChildInfo, type ChildCounts, type ChildState, type ChildRecord, type ChildOutcome, type ChildErrorCode, type ChildReply,
  type Effect, type Step, type SupervisorEmitted,
} from "./bookkeeping.ts";
export { plan, spawned, started, startFailed, startAll, restartDue, shutdown, type Down, type SpawnResult } from "./plan.ts";
export { handleRequest, refusal, type ChildRequest, type Refusal } from "./child-requests.ts";
export { ChildError } from "./child-error.ts";
