// The XState machines, importable on their own (Stately inspector, visualizers).
export { processMachine, type ProcessState, type ProcessMachineEvent, type ProcessMachineContext } from "./process.ts";
