// Supervision against the runtime's process table.
export { SupervisorProcess, type SupervisionEvent, type SupervisionRuntime, type SupervisorProcessOptions, type SupervisorClock } from "./supervisor-process.ts";
export { Supervision, SupervisorRef, type SupervisionHost, type SupervisionOptions } from "./tree.ts";
export { autoStartSpecs, supervisorFromRegistry, childFromRegistry } from "./registry-specs.ts";
export { formatSupervisionEvent } from "./format.ts";
