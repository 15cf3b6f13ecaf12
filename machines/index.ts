// The XState machines, importable on their own (Stately inspector, visualizers).
export { processMachine, type ProcessState, type ProcessMachineEvent, type ProcessMachineContext } from "./process.ts";
export {
  supervisorMachine, supervisorState, type SupervisorState, type SupervisorMachineEvent, type SupervisorMachineContext,
  type SupervisorMachineInput, type SupervisorEmitted,
} from "./supervisor.ts";
export { hostMachine, type HostMachineContext, type HostMachineEvent, type HostMachineInput } from "./host.ts";
export { actorProcessMachine, type ActorProcessContext, type ActorProcessEvent, type ActorProcessInput } from "./actor-process.ts";
export { runtimeMachine, type RuntimeMachineEvent, type RuntimeMachineInput } from "./runtime.ts";
