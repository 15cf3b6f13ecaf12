// TypeScript/XState logic as a process (SPEC 4.2). The process's lifecycle
// machine (machines/actor-process.ts) invokes the logic as its child, so the
// logic's end — a final state, a returned value, a thrown error — is the
// process's EXIT. Events from the mailbox go to the logic as XState events,
// except for `fromProcess` functions, which take them with `receive`.

import { createActor, type Actor, type AnyActorLogic, type AnyActorRef, type AnyEventObject } from "xstate";
import { actorProcessMachine } from "../../machines/actor-process.ts";
import type { ProcessState } from "../../machines/process.ts";
import { ProcessApi, type ProcessCore } from "./api.ts";
import type { MailboxEvent } from "./events.ts";
import type { ExitError, ExitResult } from "./exit.ts";
import { ProcessBase } from "./record.ts";

const PROCESS_FUNCTION = Symbol.for("wippy.fromProcess");
/** A lifecycle actor carries its process's API under this key (for `processOf`); no registry beside it. */
const PROCESS_API = Symbol.for("wippy.processApi");

/** Marks logic made by `fromProcess`: its events wait in the mailbox for `receive`. */
export function markProcessFunction<T extends object>(logic: T): T {
  Object.defineProperty(logic, PROCESS_FUNCTION, { value: true });
  return logic;
}

function isProcessFunction(logic: AnyActorLogic): boolean {
  return (logic as unknown as Record<symbol, unknown>)[PROCESS_FUNCTION] === true;
}

/**
 * The process API of the process an actor belongs to: `self` in a machine's
 * action, a `fromProcess` body, or any actor the logic spawned beneath it.
 */
export function processOf(self: AnyActorRef): ProcessApi {
  for (let ref: AnyActorRef | undefined = self; ref; ref = ref._parent) {
    const api = (ref as unknown as Record<symbol, ProcessApi | undefined>)[PROCESS_API];
    if (api) return api;
  }
  throw new TypeError(`processOf: actor ${self.id} does not run inside a process; spawn its logic with spawnActor`);
}

export interface ActorProcessOptions {
  pid: string;
  entry: string | null;
  host: string;
  logic: AnyActorLogic;
  input: unknown;
  maxMailbox?: number;
  /** The actor it is shown under: its supervisor's, else its host's. */
  parent: AnyActorRef;
  /** Called once when it has ended (the host frees its slot). */
  onEnd: () => void;
  /** Keeps its actors announced to observers that attach later. */
  track: <T extends AnyActorRef>(actor: T) => T;
}

function toLogicEvent(ev: MailboxEvent): AnyEventObject {
  return ev.type === "MESSAGE" ? { type: ev.topic, from: ev.from, payload: ev.payload } : ev;
}

export class ActorProcess extends ProcessBase {
  readonly kind = "actor" as const;
  readonly api: ProcessApi;
  readonly #core: ProcessCore;
  readonly #actor: Actor<typeof actorProcessMachine>;
  readonly #abort = new AbortController();
  readonly #onEnd: () => void;
  readonly #track: ActorProcessOptions["track"];
  #ended = false;
  /** A process function is in receive (it may get there before its machine has left init). */
  #waiting = false;

  constructor(core: ProcessCore, opts: ActorProcessOptions) {
    super(opts.pid, opts.entry, opts.host, opts.maxMailbox !== undefined ? { maxMailbox: opts.maxMailbox } : {});
    this.#core = core;
    this.#onEnd = opts.onEnd;
    this.api = new ProcessApi(core, this, { signal: this.#abort.signal, onWait: (waiting) => {
      this.#waiting = waiting;
      this.#send({ type: waiting ? "SUSPEND" : "RESUME" });
    } });
    const logic = actorProcessMachine.provide({ actors: { logic: opts.logic } });
    this.#actor = createActor(logic, {
      id: opts.pid,
      parent: opts.parent,
      input: { pid: opts.pid, entry: opts.entry, host: opts.host, input: opts.input },
    });
    Object.defineProperty(this.#actor, PROCESS_API, { value: this.api });
    this.#track = opts.track;
    opts.track(this.#actor);
    this.#actor.subscribe({
      complete: () => this.#end(this.#actor.getSnapshot().output ?? { value: undefined }),
      error: (err) => this.#end({ error: { kind: "error", message: `process machine failed: ${String(err)}` } }),
    });
    if (!isProcessFunction(opts.logic)) this.mailbox.listener = (ev) => this.#deliver(ev);
  }

  /** Starts the logic (after the process is in the table, so an instant end is an EXIT like any other). */
  start(): void {
    this.#actor.start();
    const logic = this.#actor.getSnapshot().children.logic;
    if (logic) this.#track(logic);
    this.#send({ type: "STEP" });
    // a machine (or callback, transition, observable) waits for events; a process function runs on,
    // unless its first await was already a receive
    if (this.mailbox.listener || this.#waiting) this.#send({ type: "SUSPEND" });
  }

  state(): ProcessState {
    if (this.#ended) return "closed";
    return this.#actor.getSnapshot().value as ProcessState;
  }

  memory(): number {
    return 0;
  }

  override actor(): AnyActorRef {
    return this.#actor;
  }

  kill(error: ExitError): void {
    if (this.#ended) return;
    this.#send({ type: "CLOSE", exit: { error } });
    this.#end({ error }); // in case the machine could not take it
  }

  #send(event: Parameters<Actor<typeof actorProcessMachine>["send"]>[0]): void {
    if (!this.#ended) this.#actor.send(event);
  }

  #deliver(ev: MailboxEvent): boolean {
    this.#send({ type: "RESUME" });
    this.#send({ type: "DELIVER", event: toLogicEvent(ev) });
    this.#send({ type: "SUSPEND" });
    return true;
  }

  #end(result: ExitResult): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort.abort(new Error(`process ${this.pid} has ended`));
    this.#onEnd();
    this.#core.table.exit(this.pid, result);
  }
}
