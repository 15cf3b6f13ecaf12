// Drives one WASM process through its machine: init (load, instantiate) →
// stepping ⇄ suspended → closed. Synchronous guests run start to finish
// without an await; async ones report each host wait.

import { createActor, type Actor, type InspectionEvent, type Observer } from "xstate";
import { processInitialState, processMachine, processTransitions, type ProcessMachineEvent, type ProcessState } from "../../machines/process.ts";
import type { Limits, WasmEntry } from "../registry/types.ts";
import { Budget } from "./budget.ts";
import type { MemoryPool } from "./memory-pool.ts";
import type { ProgramLoader } from "../wasm/loader.ts";
import type { Instance, Program, ProcessIO } from "../wasm/program.ts";
import { ProcessError, toExitError, type ExitError, type ExitResult } from "./exit.ts";
import type { ProcessHost } from "./host.ts";
import { ProcessBase } from "./record.ts";
import type { ProcessTable } from "./table.ts";

export interface WasmProcessDeps {
  table: ProcessTable;
  loader: ProgramLoader;
  /** Builds the process's I/O and WASI view; throws a ProcessError("spawn") when it cannot. */
  makeIO: (proc: WasmProcess, args: unknown[]) => ProcessIO;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** The abort reason of every ended process (host waits give up on it; nothing reads it). */
const ENDED = new Error("the process has ended");

/** Raised inside a guest that is resumed after its process ended. */
export class ProcessEnded extends Error {}

function spawnError(err: unknown): ExitError {
  if (err instanceof ProcessError) return err.toExitError();
  const e = toExitError(err, "spawn");
  return e.kind === "trap" ? { kind: "trap", message: `trap during instantiation: ${e.message}` } : { kind: "spawn", message: `could not instantiate: ${e.message}` };
}

export class WasmProcess extends ProcessBase {
  readonly kind = "wasm";
  readonly wasmEntry: WasmEntry;
  /** The host's default limits with the entry's own on top. */
  readonly limits: Limits;
  readonly budget: Budget;
  readonly #deps: WasmProcessDeps;
  readonly #host: ProcessHost;
  /** A real actor when the runtime is inspected; otherwise the machine's transition table and #state. */
  readonly #actor: Actor<typeof processMachine> | undefined;
  #state: ProcessState = processInitialState;
  /** Made when first asked for (a WASI wait, a timer): a process that never waits pays nothing. */
  #abort: AbortController | undefined;
  #instance: Instance | undefined;
  #ended = false;
  /** Waiting on the host (not merely preempted): the point where a cancel is honoured. */
  #waiting = false;
  #cancelReason: unknown;

  constructor(deps: WasmProcessDeps, entry: WasmEntry, host: ProcessHost, pid: string) {
    super(pid, entry.id, host.id);
    this.wasmEntry = entry;
    this.limits = { ...host.limits, ...entry.limits };
    this.budget = new Budget(this.limits);
    this.#deps = deps;
    this.#host = host;
    if (deps.inspect) {
      this.#actor = createActor(processMachine, { id: pid, input: { pid, entry: entry.id, host: host.id }, inspect: deps.inspect });
      this.#actor.start();
    }
  }

  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#ended && !this.#abort.signal.aborted) this.#abort.abort(ENDED);
    return this.#abort.signal;
  }

  /** Its host's pool of linear memories. */
  get memoryPool(): MemoryPool {
    return this.#host.memoryPool;
  }

  state(): ProcessState {
    return this.#actor ? (this.#actor.getSnapshot().value as ProcessState) : this.#state;
  }

  memory(): number {
    return this.#instance?.memoryBytes() ?? 0;
  }

  #send(event: ProcessMachineEvent): void {
    if (this.#actor) this.#actor.send(event);
    else this.#state = processTransitions[this.#state][event.type] ?? this.#state;
  }

  /** For the I/O layer: the guest starts waiting on the host — a safe point to honour a cancel. */
  suspend(): void {
    if (this.#ended) return;
    this.#waiting = true;
    this.#send({ type: "SUSPEND" });
    if (this.#cancelReason !== undefined) this.#endCancelled();
  }

  /**
   * Graceful stop: the guest ends (kind `cancelled`) at its next host wait, at
   * once if it is waiting now; past `timeoutMs` it is killed.
   */
  cancel(from: string, reason: unknown, timeoutMs: number): void {
    if (this.#ended) return;
    this.mailbox.deliver({ type: "CANCEL", from, reason });
    this.#cancelReason = reason ?? "cancelled";
    if (this.#waiting) {
      this.#endCancelled();
      return;
    }
    const timer = setTimeout(() => this.kill({ kind: "killed", message: `did not stop within ${timeoutMs} ms of being cancelled` }), timeoutMs);
    this.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }

  #endCancelled(): void {
    const r = this.#cancelReason;
    this.#finish({ error: { kind: "cancelled", message: typeof r === "string" ? r : JSON.stringify(r) ?? "cancelled" } });
  }

  /** The guest gives the thread up for a turn (preemption): suspended, but not a wait, so no cancel point. */
  preempt(): void {
    if (!this.#ended) this.#send({ type: "SUSPEND" });
  }

  /** For the I/O layer: the wait is over; unwinds the guest if the process has ended meanwhile. */
  resume(): void {
    if (this.#ended) throw new ProcessEnded(`process ${this.pid} has ended`);
    this.#waiting = false;
    this.#send({ type: "RESUME" });
  }

  start(args: unknown[]): void {
    if (!this.#host.preempt && this.limits.fuel !== undefined) {
      this.#finish({ error: { kind: "spawn", message: `${this.entry}: limits.fuel needs preemption, but process.host ${this.host} has preempt: false; drop the fuel limit or spawn on another host` } });
      return;
    }
    const variant = this.#host.preempt ? "preempt" : "memory";
    const program = this.#deps.loader.peek(this.wasmEntry, variant);
    if (program) {
      this.#init(program, args);
      return;
    }
    this.#deps.loader.load(this.wasmEntry, variant).then(
      (p) => this.#init(p, args),
      (err: unknown) => this.#finish({ error: spawnError(err) }),
    );
  }

  kill(error: ExitError): void {
    this.#finish({ error });
  }

  #init(program: Program, args: unknown[]): void {
    if (this.#ended) return; // killed while loading
    let instance: Instance | Promise<Instance>;
    try {
      instance = program.instantiate(this.#deps.makeIO(this, args));
    } catch (err) {
      this.#finish({ error: spawnError(err) });
      return;
    }
    if (instance instanceof Promise) {
      instance.then(
        (i) => this.#step(i, args),
        (err: unknown) => this.#finish({ error: spawnError(err) }),
      );
    } else {
      this.#step(instance, args);
    }
  }

  #step(instance: Instance, args: unknown[]): void {
    if (this.#ended) {
      instance.dispose?.();
      return;
    }
    this.#instance = instance;
    this.#send({ type: "STEP" });
    this.budget.start();
    const maxMs = this.limits.maxExecutionMs;
    if (maxMs !== undefined) {
      // Ends a guest that waits or yields past its time; one that never yields cannot be
      // stopped on this thread, which is why every module has preemption points.
      const timer = setTimeout(() => this.kill(this.budget.timeLimit().toExitError()), maxMs);
      this.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    }
    let out: unknown;
    try {
      out = instance.call(args);
    } catch (err) {
      this.#finish({ error: toExitError(err) });
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (value: unknown) => this.#finish({ value }),
        (err: unknown) => this.#finish({ error: toExitError(err) }),
      );
    } else {
      this.#finish({ value: out });
    }
  }

  #finish(result: ExitResult): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort?.abort(ENDED); // a reason of our own: abort() would build a DOMException per process
    this.#send({ type: "CLOSE", exit: result });
    try {
      this.#instance?.dispose?.();
    } finally {
      this.#instance = undefined;
      this.#host.release();
      this.mailbox.close();
      this.#deps.table.exit(this.pid, result);
    }
  }
}
