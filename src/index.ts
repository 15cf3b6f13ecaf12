// Public API.
export { Runtime, type RuntimeOptions } from "./runtime.ts";
export { ProcessHandle } from "./process/handle.ts";
export { ProcessError, type ExitError, type ExitKind, type ExitResult } from "./process/exit.ts";
export type { MailboxEvent, ExitEvent, LinkDownEvent, CancelEvent, MessageEvent } from "./process/events.ts";
export type { ProcessInfo, ProcessKind } from "./process/table.ts";
export type { Stdio } from "./process/io.ts";
export { loadRegistry, RegistryError, type LoadOptions, type RegistryIssue } from "./registry/index.ts";
export type * from "./registry/types.ts";
export { processMachine, type ProcessState } from "../machines/process.ts";
export { supervisorMachine, type SupervisorState } from "../machines/supervisor.ts";
export { Supervision, SupervisorRef, SupervisorProcess, formatSupervisionEvent, type SupervisionEvent } from "./supervision/index.ts";
export {
  SupervisorSpecError, ChildError, normalizeSupervisor, planRestart, shouldRestart, backoffDelay,
  type SupervisorInput, type ChildInput, type SupervisorSpec, type ChildSpec, type ChildInfo, type ChildState, type ChildCounts, type ChildErrorCode,
} from "../supervisors/index.ts";
