// What running real actors takes: XState, the runtime's machines, and the processes
// that are actors (TypeScript logic, supervisors). Loaded only when some actor runs
// or someone inspects (actor-kit.ts says when); a plain WASM run never loads it.

import { createActor, toObserver } from "xstate";
import { hostMachine } from "../../machines/host.ts";
import { processMachine } from "../../machines/process.ts";
import { runtimeMachine } from "../../machines/runtime.ts";
import { Supervision, SupervisorRef } from "../supervision/tree.ts";
import { provideActorKit } from "./actor-kit.ts";
import { ActorProcess } from "./actor-process.ts";

const kit = { createActor, toObserver, hostMachine, processMachine, runtimeMachine, ActorProcess, Supervision, SupervisorRef };
export type ActorKit = typeof kit;

provideActorKit(kit);
