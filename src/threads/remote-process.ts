// A process whose body runs on a worker thread, as the main thread's table holds
// it: its pid, monitors and links live here like any other's; its mailbox and its
// body live on the worker. Whatever is delivered to it is posted there; its
// machine's transitions come back (and are replayed on a mirror actor while the
// runtime is inspected), and so does its one EXIT.

import type { Actor, AnyActorRef } from "xstate";
import type { processMachine, ProcessMachineEvent, ProcessState } from "../../machines/process.ts";
import { processInitialState } from "../generated/process-transitions.ts";
import { actorKit } from "../process/actor-kit.ts";
import { parentActor, type ActorParent } from "../process/actor-tree.ts";
import type { MailboxEvent, ProcessMessageEvent } from "../process/events.ts";
import type { ExitError, ExitResult } from "../process/exit.ts";
import { Mailbox, type DeliverOutcome } from "../process/mailbox.ts";
import { ProcessBase } from "../process/record.ts";

/** What a remote process needs of the worker it runs on. */
export interface WorkerLink {
  readonly thread: number;
  deliver(pid: string, event: MailboxEvent): void;
  forward(pid: string, event: ProcessMessageEvent): Promise<boolean>;
  kill(pid: string, error: ExitError): void;
  cancelled(pid: string, from: string, reason: unknown): void;
}

/** Posts what is delivered to the worker (EXIT, LINK_DOWN, CANCEL: never dropped, never counted). */
class RemoteMailbox extends Mailbox {
  readonly #proc: RemoteProcess;
  constructor(proc: RemoteProcess) {
    super(proc.pid);
    this.#proc = proc;
  }
  override deliver(event: MailboxEvent): DeliverOutcome {
    if (this.closed) return "closed";
    this.#proc.whenStarted(() => this.#proc.worker.deliver(this.#proc.pid, event));
    return "queued";
  }
}

// no-op actions: the worker's machine does the work, this one only shows it
let mirror: typeof processMachine | undefined;
const mirrorLogic = () => (mirror ??= actorKit().processMachine.provide({ actions: { instantiate: () => {}, run: () => {}, free: () => {} } }));

export class RemoteProcess extends ProcessBase {
  readonly kind: "wasm" | "lua";
  override readonly wire = true;
  override readonly thread: number;
  readonly worker: WorkerLink;
  override readonly mailbox: Mailbox;
  readonly forward: (event: ProcessMessageEvent) => Promise<boolean>;
  /** Its end on the main thread, once: from the worker's EXIT, or decided here (load failed, worker lost). */
  readonly #end: (pid: string, result: ExitResult) => void;
  readonly #parent: ActorParent;
  #state: ProcessState = processInitialState;
  #memory = 0;
  #mirror: Actor<typeof processMachine> | undefined;
  /** Posted to the worker (before that, the main thread still loads its program). */
  #started = false;
  /** What was delivered to it before it was posted to the worker, in order; `drop` when it ends first. */
  #early: { post: () => void; drop: () => void }[] = [];
  #ended = false;

  constructor(opts: {
    pid: string;
    entry: string;
    host: string;
    kind: "wasm" | "lua";
    worker: WorkerLink;
    parent: ActorParent;
    end: (pid: string, result: ExitResult) => void;
  }) {
    super(opts.pid, opts.entry, opts.host);
    this.kind = opts.kind;
    this.worker = opts.worker;
    this.thread = opts.worker.thread;
    this.mailbox = new RemoteMailbox(this);
    this.#parent = opts.parent;
    this.#end = opts.end;
    this.forward = (event) => {
      if (this.#started) return this.worker.forward(this.pid, event);
      return new Promise<boolean>((resolve, reject) => {
        this.#early.push({ post: () => this.worker.forward(this.pid, event).then(resolve, reject), drop: () => resolve(false) });
      });
    };
  }

  get started(): boolean {
    return this.#started;
  }

  /** Runs `post` now if the worker has it, else once it has (in delivery order). */
  whenStarted(post: () => void): void {
    if (this.#started) post();
    else this.#early.push({ post, drop: () => {} });
  }

  /** The spawn has been posted to the worker: what was delivered meanwhile follows it. */
  markStarted(): void {
    this.#started = true;
    const early = this.#early;
    this.#early = [];
    for (const e of early) e.post();
  }

  get ended(): boolean {
    return this.#ended;
  }

  state(): ProcessState {
    return this.#state;
  }

  memory(): number {
    return this.#memory;
  }

  /** The worker's machine moved (a coalesced state, or the event itself while inspected). */
  transitioned(state: ProcessState | undefined, event: ProcessMachineEvent | undefined, memory: number): void {
    this.#memory = memory;
    if (event && this.#mirror) {
      this.#mirror.send(event);
      this.#state = this.#mirror.getSnapshot().value as ProcessState;
    } else if (state) this.#state = state;
  }

  /** An observer attached: a mirror actor from the state it is in now, under its supervisor's or host's actor. */
  inspectNow(): void {
    if (this.#mirror || this.#ended) return;
    const input = { pid: this.pid, entry: this.entry ?? "", host: this.host };
    const logic = mirrorLogic();
    const snapshot = logic.resolveState({ value: this.#state, context: { ...input, exit: null } });
    this.#mirror = actorKit().createActor(logic, { id: this.pid, parent: parentActor(this.#parent), input, snapshot });
    this.#mirror.start();
  }

  override actor(): AnyActorRef | undefined {
    return this.#mirror;
  }

  kill(error: ExitError): void {
    if (this.#ended) return;
    if (this.#started) this.worker.kill(this.pid, error);
    else this.end({ error }); // still loading here: nothing runs on the worker yet
  }

  override cancelled(from: string, reason: unknown): void {
    if (!this.#ended) this.whenStarted(() => this.worker.cancelled(this.pid, from, reason));
  }

  /** Ends it on the main thread (once): EXIT to its monitors, LINK_DOWN to its links. */
  end(result: ExitResult): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const e of this.#early) e.drop();
    this.#early = [];
    if (this.#mirror && this.#state !== "closed") this.#mirror.send({ type: "CLOSE", exit: result });
    this.#state = "closed";
    this.#end(this.pid, result);
  }
}
