// `fromProcess(fn)`: an async function as a process body, in the manner of
// XState's `fromCallback`/`fromPromise` — it gets its pid, its input and the
// process API, and its return value is the process's EXIT value.

import { fromPromise, type PromiseActorLogic } from "xstate";
import type { ProcessApi } from "./api.ts";
import { markProcessFunction, processOf } from "./actor-process.ts";

/** What a process function gets: its pid, input, a signal that aborts when the process has ended, and the process API. */
export interface ProcessContext<TInput = unknown> {
  self: string;
  input: TInput;
  signal: AbortSignal;
  send: ProcessApi["send"];
  receive: ProcessApi["receive"];
  spawn: ProcessApi["spawn"];
  spawnMonitored: ProcessApi["spawnMonitored"];
  spawnLinked: ProcessApi["spawnLinked"];
  spawnLinkedMonitored: ProcessApi["spawnLinkedMonitored"];
  spawnActor: ProcessApi["spawnActor"];
  exec: ProcessApi["exec"];
  monitor: ProcessApi["monitor"];
  unmonitor: ProcessApi["unmonitor"];
  link: ProcessApi["link"];
  unlink: ProcessApi["unlink"];
  cancel: ProcessApi["cancel"];
  terminate: ProcessApi["terminate"];
  setOptions: ProcessApi["setOptions"];
}

export type ProcessFunction<TOutput, TInput> = (ctx: ProcessContext<TInput>) => Promise<TOutput> | TOutput;

/** The context object of a process API: its methods bound, so they can be destructured. */
export function processContext<TInput>(api: ProcessApi, input: TInput): ProcessContext<TInput> {
  return {
    self: api.self,
    input,
    signal: api.signal,
    send: api.send.bind(api),
    receive: api.receive.bind(api),
    spawn: api.spawn.bind(api),
    spawnMonitored: api.spawnMonitored.bind(api),
    spawnLinked: api.spawnLinked.bind(api),
    spawnLinkedMonitored: api.spawnLinkedMonitored.bind(api),
    spawnActor: api.spawnActor.bind(api),
    exec: api.exec.bind(api),
    monitor: api.monitor.bind(api),
    unmonitor: api.unmonitor.bind(api),
    link: api.link.bind(api),
    unlink: api.unlink.bind(api),
    cancel: api.cancel.bind(api),
    terminate: api.terminate.bind(api),
    setOptions: api.setOptions.bind(api),
  };
}

/** An async function as process logic: `runtime.spawnActor(fromProcess(async ({ receive, send }) => …))`. */
export function fromProcess<TOutput = unknown, TInput = unknown>(fn: ProcessFunction<TOutput, TInput>): PromiseActorLogic<TOutput, TInput> {
  const logic = fromPromise<TOutput, TInput>(async ({ input, self }) => fn(processContext(processOf(self), input)));
  return markProcessFunction(logic);
}
