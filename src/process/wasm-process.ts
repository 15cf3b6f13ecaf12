// Drives one WASM process through its machine: init (load, instantiate) →
// stepping ⇄ suspended → closed. Synchronous guests run start to finish
// without an await; async ones report each host wait.

import type { Actor, AnyActorRef } from "xstate";
import type { processMachine, ProcessAction, ProcessExit, ProcessMachineEvent, ProcessState } from "../../machines/process.ts";
import { processInitialState, processTransitions } from "../generated/process-transitions.ts";
import { actorKit } from "./actor-kit.ts";
import { limitsNeedingPreemption, preemptRefusal } from "../registry/preempt-limits.ts";
import type { Limits, WasmEntry } from "../registry/types.ts";
import { cancelMessage } from "./arguments.ts";
import { Budget } from "./budget.ts";
import type { InstancePool } from "./instance-pool.ts";
import type { MemoryPool } from "./memory-pool.ts";
import type { ProgramLoader } from "../wasm/loader.ts";
import type { Instance, Program, ProcessIO } from "../wasm/program.ts";
import { ProcessError, toExitError, type ExitError, type ExitResult } from "./exit.ts";
import { parentActor, type ActorParent, type ActorTree } from "./actor-tree.ts";
import { GuestLifetime } from "./lifetime.ts";
import { ProcessBase } from "./record.ts";
import type { ProcessTable } from "./table.ts";

export interface WasmProcessDeps {
  table: ProcessTable;
  /** Loaded programs (a worker thread's are posted to it by the main thread). */
  loader: Pick<ProgramLoader, "peek" | "load">;
  /** Builds the process's I/O and WASI view; throws a ProcessError("spawn") when it cannot. */
  makeIO: (proc: WasmProcess, args: unknown[]) => ProcessIO;
  /** The runtime's actor system: a process gets an actor only while someone inspects. */
  tree: Pick<ActorTree, "inspected">;
  /** Hears every transition of the machine (a worker thread forwards them to the main thread). */
  onTransition?: (proc: WasmProcess, event: ProcessMachineEvent) => void;
}

/** What a WASM process needs of its host (a worker thread has its own view of it). */
export interface WasmHost {
  readonly id: string;
  readonly limits: Limits;
  readonly preempt: boolean;
  readonly memoryPool: MemoryPool;
  /** Instances of its ended processes, for the next ones (modules the reset rewrite qualified). */
  readonly instancePool: InstancePool;
  /** Gives its slot back when a process ends. */
  release(): void;
}

/** The instrumentation a host's programs get: preemption points unless the host turned them off. */
export function instrumentationOf(host: Pick<WasmHost, "preempt">): "preempt" | "memory" {
  return host.preempt ? "preempt" : "memory";
}

/** Why a process of `entry` cannot start on `host` (limits that need preemption on a host without it), or undefined. */
export function startRefusal(entry: WasmEntry, host: Pick<WasmHost, "id" | "preempt" | "limits">): ExitError | undefined {
  if (host.preempt) return undefined;
  const need = limitsNeedingPreemption({ ...host.limits, ...entry.limits });
  return need.length > 0 ? { kind: "spawn", message: preemptRefusal(entry.id, host.id, need) } : undefined;
}

/** What a failed load or instantiation becomes (a `runtime.call` classifies it the same way). */
export function spawnError(err: unknown): ExitError {
  if (err instanceof ProcessError) return err.toExitError();
  const e = toExitError(err, "spawn");
  return e.kind === "trap" ? { kind: "trap", message: `trap during instantiation: ${e.message}` } : { kind: "spawn", message: `could not instantiate: ${e.message}` };
}

// every wait sends these two: one object each, not one per wait (events are never mutated)
const SUSPEND: ProcessMachineEvent = { type: "SUSPEND" };
const RESUME: ProcessMachineEvent = { type: "RESUME" };
// ...and their transitions from the states they are sent in, looked up once (the machine's own)
const SUSPENDING = processTransitions.stepping.SUSPEND;
const RESUMING = processTransitions.suspended.RESUME;

/** A body other than a plain process.wasm entry runs as a WASM guest (a process.lua entry on the Lua interpreter). */
export interface WasmBodyOptions {
  kind?: "wasm" | "lua";
  /** Holds the process API; default: the entry imports wippy:process. */
  receives?: boolean;
}

export class WasmProcess extends ProcessBase {
  readonly kind: "wasm" | "lua";
  override readonly wire = true;
  /** It holds the process API (wippy:process): it receives CANCEL as an event and is not interrupted at its waits. */
  readonly receives: boolean;
  readonly wasmEntry: WasmEntry;
  /** The host's default limits with the entry's own on top. */
  readonly limits: Limits;
  readonly budget: Budget;
  readonly #deps: WasmProcessDeps;
  readonly #host: WasmHost;
  /** A real actor while the runtime is inspected; otherwise the machine's transition table and #state. */
  #actor: Actor<typeof processMachine> | undefined;
  /** The actor it is shown under: its supervisor's, else its host's (none on a worker thread: the main thread shows it). */
  readonly #parent: ActorParent;
  #state: ProcessState = processInitialState;
  /** Its end: host waits give up, timers stop, a resumed guest unwinds. */
  readonly #life = new GuestLifetime();
  #instance: Instance | undefined;
  /** Set between load and instantiate. */
  #program: Program | undefined;
  #args: unknown[] = [];
  /** Waiting on the host (not merely preempted): the point where a cancel is honoured. */
  #waiting = false;
  #cancelReason: unknown;
  /** What the guest gave with set-result: it wins over the method's return value. */
  #result: { value: unknown } | undefined;

  constructor(deps: WasmProcessDeps, entry: WasmEntry, host: WasmHost, pid: string, parent: ActorParent, body: WasmBodyOptions = {}) {
    const limits = { ...host.limits, ...entry.limits };
    super(pid, entry.id, host.id, limits.maxMailbox !== undefined ? { maxMailbox: limits.maxMailbox } : {});
    this.kind = body.kind ?? "wasm";
    this.wasmEntry = entry;
    this.receives = body.receives ?? entry.imports.includes("wippy:process");
    this.limits = limits;
    this.budget = new Budget(this.limits);
    this.#deps = deps;
    this.#host = host;
    this.#parent = parent;
    if (deps.tree.inspected) this.inspectNow();
  }

  /** Runs the lifecycle as a real actor from the state it is in now (an observer attached). */
  inspectNow(): void {
    if (this.#actor || this.#life.ended) return;
    const input = { pid: this.pid, entry: this.wasmEntry.id, host: this.host };
    const { createActor, processMachine } = actorKit();
    const logic = processMachine.provide({
      actions: {
        instantiate: () => this.#instantiate(),
        run: () => this.#run(),
        free: ({ event }) => this.#free(event.type === "CLOSE" ? event.exit : {}),
      },
    });
    const snapshot = logic.resolveState({ value: this.#state, context: { ...input, exit: null } });
    this.#actor = createActor(logic, { id: this.pid, parent: parentActor(this.#parent), input, snapshot });
    this.#actor.start();
  }

  override actor(): AnyActorRef | undefined {
    return this.#actor;
  }

  get signal(): AbortSignal {
    return this.#life.signal;
  }

  /** Its host's pool of linear memories. */
  get memoryPool(): MemoryPool {
    return this.#host.memoryPool;
  }

  /** Its host's pool of reusable instances. */
  get instancePool(): InstancePool {
    return this.#host.instancePool;
  }

  state(): ProcessState {
    return this.#state;
  }

  memory(): number {
    return this.#instance?.memoryBytes() ?? 0;
  }

  /** The machine decides: its actor when inspected, else its transition table with the same named actions. */
  #send(event: ProcessMachineEvent): void {
    const state = this.#state;
    const t =
      event === SUSPEND && state === "stepping" ? SUSPENDING : event === RESUME && state === "suspended" ? RESUMING : processTransitions[state][event.type];
    if (!t) return;
    this.#state = t.target;
    this.#deps.onTransition?.(this, event);
    if (this.#actor) {
      this.#actor.send(event);
      return;
    }
    for (const action of t.actions) this.#do(action, event);
  }

  #do(action: ProcessAction, event: ProcessMachineEvent): void {
    switch (action) {
      case "instantiate":
        return this.#instantiate();
      case "run":
        return this.#run();
      case "free":
        return this.#free(event.type === "CLOSE" ? event.exit : {});
    }
  }

  /** For the I/O layer: the guest starts waiting on the host — a safe point to honour a cancel. */
  suspend(): void {
    if (this.#life.ended) return;
    this.#waiting = true;
    this.budget.waited();
    this.#send(SUSPEND);
    if (this.#cancelReason !== undefined) this.#endCancelled();
  }

  /**
   * A CANCEL arrived (the table's kill timer runs): a guest that cannot receive
   * ends (kind `cancelled`) at its next host wait, at once if it is waiting now.
   */
  override cancelled(_from: string, reason: unknown): void {
    if (this.#life.ended || this.receives) return; // a receiver reads the CANCEL from its mailbox
    this.#cancelReason = reason ?? "cancelled";
    if (this.#waiting) this.#endCancelled();
  }

  #endCancelled(): void {
    this.#finish({ error: { kind: "cancelled", message: cancelMessage(this.#cancelReason) } });
  }

  /** set-result: the value this process ends with on a normal return (or WASI exit status 0). */
  setResult(value: unknown): void {
    this.#result = { value };
  }

  /** The guest gives the thread up for a turn (preemption): suspended, but not a wait, so no cancel point. */
  preempt(): void {
    if (!this.#life.ended) this.#send(SUSPEND);
  }

  /** For the I/O layer: the wait is over; unwinds the guest if the process has ended meanwhile. */
  resume(): void {
    this.#life.resume(`process ${this.pid}`);
    this.#waiting = false;
    this.#send(RESUME);
  }

  start(args: unknown[]): void {
    this.#args = args;
    const refused = startRefusal(this.wasmEntry, this.#host);
    if (refused) {
      this.#finish({ error: refused });
      return;
    }
    const variant = instrumentationOf(this.#host);
    const program = this.#deps.loader.peek(this.wasmEntry, variant);
    if (program) {
      this.#loaded(program);
      return;
    }
    this.#deps.loader.load(this.wasmEntry, variant).then(
      (p) => this.#loaded(p),
      (err: unknown) => this.#finish({ error: spawnError(err) }),
    );
  }

  kill(error: ExitError): void {
    this.#finish({ error });
  }

  #loaded(program: Program): void {
    if (this.#life.ended) return; // killed while loading
    this.#program = program;
    this.#send({ type: "LOADED" });
  }

  /** Action `instantiate`: a new instance of the loaded program; STEP once it exists. */
  #instantiate(): void {
    const program = this.#program!;
    this.#program = undefined;
    let instance: Instance | Promise<Instance>;
    try {
      instance = program.instantiate(this.#deps.makeIO(this, this.#args));
    } catch (err) {
      this.#finish({ error: spawnError(err) });
      return;
    }
    if (instance instanceof Promise) {
      instance.then(
        (i) => this.#instantiated(i),
        (err: unknown) => this.#finish({ error: spawnError(err) }),
      );
    } else {
      this.#instantiated(instance);
    }
  }

  #instantiated(instance: Instance): void {
    if (this.#life.ended) {
      instance.dispose?.();
      return;
    }
    this.#instance = instance;
    this.#send({ type: "STEP" });
  }

  /** Action `run`: the method runs until it returns, traps or is stopped. */
  #run(): void {
    const instance = this.#instance!;
    this.budget.start();
    const maxMs = this.limits.maxExecutionMs;
    if (maxMs !== undefined) {
      // Ends a guest that waits or yields past its time; one that never yields cannot be
      // stopped on this thread, which is why every module has preemption points (and a
      // host without them refuses this limit at start).
      this.#life.after(maxMs, () => this.kill(this.budget.timeLimit().toExitError()));
    }
    let out: unknown;
    try {
      out = instance.call(this.#args);
    } catch (err) {
      this.#finish({ error: toExitError(err) });
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (value: unknown) => this.#finish(this.#result ?? { value }),
        (err: unknown) => this.#finish({ error: toExitError(err) }),
      );
    } else {
      this.#finish(this.#result ?? { value: out });
    }
  }

  #finish(result: ExitResult): void {
    if (!this.#life.end()) return;
    this.#send({ type: "CLOSE", exit: this.outcome(result) });
  }

  /** What the process ends with, given how its guest ended; a body may read its guest's result its own way. */
  protected outcome(result: ExitResult): ExitResult {
    return result;
  }

  /** Action `free`: the instance is disposed, the host slot released, and the EXIT goes out. */
  #free(exit: ProcessExit): void {
    try {
      this.#instance?.dispose?.();
    } finally {
      this.#instance = undefined;
      this.#program = undefined;
      this.#host.release();
      this.#deps.table.exit(this.pid, exit as ExitResult);
    }
  }

}
