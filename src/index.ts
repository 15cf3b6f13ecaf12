// Public API: what a user of the runtime needs, and nothing internal.
// A program using the package has XState at hand (it writes machines with it): the
// runtime's actor kit loads with it, so inspect() and supervisors work from the start.
import "./process/xstate-kit.ts";
export { Runtime, type RuntimeOptions, type OwnProcess } from "./runtime.ts";
export { ProcessApi, type ActorSpawnOptions } from "./process/api.ts";
export { fromProcess, type ProcessContext, type ProcessFunction } from "./process/from-process.ts";
export { processOf } from "./process/actor-process.ts";
export { ProcessError, ProcessExitError, MailboxFullError, isExitError, type ExitError, type ExitKind, type ExitResult } from "./process/exit.ts";
export type { MailboxEvent, ExitEvent, LinkDownEvent, CancelEvent, ProcessMessageEvent } from "./process/events.ts";
export type { ReceiveOptions } from "./process/mailbox.ts";
export type { CallOptions } from "./process/call.ts";
export type { ProcessInfo } from "./process/table.ts";
export type { ProcessKind } from "./process/record.ts";
export type { Stdio } from "./process/io.ts";
export { loadRegistry, RegistryError, type LoadOptions, type RegistryIssue } from "./registry/index.ts";
export type * from "./registry/types.ts";
export { processMachine, type ProcessState } from "../machines/process.ts";
export { actorProcessMachine } from "../machines/actor-process.ts";
export { supervisorMachine, type SupervisorState } from "../machines/supervisor.ts";
export { SupervisorRef, formatSupervisionEvent, type SupervisionEvent } from "./supervision/index.ts";
export {
  SupervisorSpecError, ChildError,
  type SupervisorInput, type ChildInput, type ChildInfo, type ChildState, type ChildCounts, type ChildErrorCode,
} from "../supervisors/index.ts";
