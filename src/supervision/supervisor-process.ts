// A supervisor as a process: a pid in the table, a mailbox whose events drive
// its machine, and the machine's effects (spawn, cancel, reply) carried out
// against the runtime. Its own end is an EXIT like any process's, which is how
// a parent supervisor sees a child supervisor fail (escalation).

import { createActor, type Actor, type ActorOptions, type AnyActorLogic, type AnyActorRef } from "xstate";
import {
  supervisorMachine, supervisorState, type ReplyParams, type SpawnResult, type StopChildParams, type SupervisorEmitted, type SupervisorMachineEvent, type SupervisorState,
} from "../../machines/supervisor.ts";
import type { ProcessState } from "../../machines/process.ts";
import { childInfo, countChildren, newBook, type Book, type ChildCounts, type ChildInfo, type ChildReply } from "../../supervisors/bookkeeping.ts";
import { ChildError } from "../../supervisors/child-error.ts";
import type { ChildRequest } from "../../supervisors/child-requests.ts";
import type { ChildSpec, SupervisorSpec } from "../../supervisors/spec.ts";
import type { MailboxEvent } from "../process/events.ts";
import { ProcessError, toExitError, type ExitError, type ExitResult } from "../process/exit.ts";
import { ProcessBase } from "../process/record.ts";
import type { ProcessTable } from "../process/table.ts";

type Clock = NonNullable<ActorOptions<AnyActorLogic>["clock"]>;


/** What a supervisor needs from the runtime. `parent`: the actor a child is shown under (the supervisor's). */
export interface SupervisionRuntime {
  readonly table: ProcessTable;
  /** Spawns a child; `placement` says where a child on another node restarts when its node is down. */
  spawn(id: string, host: string, args: unknown[], opts: { monitor?: string; link?: string; parent?: AnyActorRef; placement?: "local" | "any" }): string;
  spawnActor(logic: AnyActorLogic, opts: { host?: string; input?: unknown; monitor?: string; parent?: AnyActorRef }): string;
  cancel(from: string, pid: string, reason: unknown, timeoutMs?: number): void;
  /** The actor of a process host, under which a top-level supervisor is shown. */
  hostActor(host: string): AnyActorRef;
  /** Keeps an actor announced to inspectors that attach later. */
  track<T extends AnyActorRef>(actor: T): T;
}

/** Time and randomness for intensity, backoff and jitter (tests inject their own). */
export interface SupervisorClock {
  now(): number;
  random(): number;
}

export type SupervisionEvent =
  | SupervisorEmitted
  | { type: "supervisor.started"; supervisor: string; pid: string; parent: string | null }
  | { type: "supervisor.exited"; supervisor: string; pid: string; parent: string | null; result: ExitResult };

export interface SupervisorProcessOptions {
  clock?: SupervisorClock;
  /** Timers for restart delays (XState's clock). */
  timers?: Clock;
  notify?: (event: SupervisionEvent) => void;
  /** Called with every supervisor of the tree as it starts (nested ones too). */
  register?: (sup: SupervisorProcess) => void;
  /** The parent supervisor's pid: it monitors this one. */
  parent?: string;
  /** The parent supervisor's actor, under which this one is shown (else its host's). */
  parentActor?: () => AnyActorRef | undefined;
  /** The top-level supervisor of this tree. */
  root?: SupervisorProcess;
}

/** A child request as the caller gives it: the machine event without its reply id. */
export type ChildRequestInput =
  | { type: "START_CHILD"; spec: ChildSpec }
  | { type: "TERMINATE_CHILD" | "RESTART_CHILD" | "DELETE_CHILD"; id: string };

const SUPERVISOR_HOST = "runtime";

export class SupervisorProcess extends ProcessBase {
  readonly kind = "supervisor" as const;
  readonly id: string;
  readonly spec: SupervisorSpec;
  readonly root: SupervisorProcess;
  readonly parent: string | null;
  /** Resolves with the supervisor's exit result. */
  readonly done: Promise<ExitResult>;
  readonly #rt: SupervisionRuntime;
  readonly #opts: SupervisorProcessOptions;
  readonly #clock: SupervisorClock;
  #actor: Actor<typeof supervisorMachine> | undefined;
  /** The book until the actor exists. */
  readonly #initialBook: Book;
  /** Child requests awaiting the machine's `reply`, by request id. */
  readonly #pending = new Map<number, { resolve: (pid: string | null) => void; reject: (err: Error) => void }>();
  #requests = 0;
  #resolveDone!: (r: ExitResult) => void;
  #result: ExitResult | null = null;

  constructor(rt: SupervisionRuntime, spec: SupervisorSpec, opts: SupervisorProcessOptions = {}) {
    // entry: the supervisor's ID. trapLinks: a linked failure becomes an orderly shutdown with kind `link`.
    const host = spec.host ?? SUPERVISOR_HOST;
    super(rt.table.newPid(host), spec.id, host, { trapLinks: true });
    this.#rt = rt;
    this.#opts = opts;
    this.spec = spec;
    this.id = spec.id;
    this.root = opts.root ?? this;
    this.parent = opts.parent ?? null;
    this.#clock = opts.clock ?? { now: () => Date.now(), random: () => Math.random() };
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#initialBook = newBook(spec);
    rt.table.add(this);
    if (opts.parent) this.monitors.add(opts.parent);
    opts.register?.(this);
    // Mail is handed to the machine after whatever delivered it: a supervisor never reacts inside the
    // table's delivery of an EXIT (the other monitors get it first, so everyone sees ends in order).
    this.mailbox.listener = (ev) => {
      queueMicrotask(() => this.#onMail(ev));
      return true;
    };
  }

  /** Starts the children in order; failures from here on arrive as this process's EXIT. */
  start(): this {
    if (this.#result || this.#actor) return this; // killed before it started, or started
    this.#notify({ type: "supervisor.started", supervisor: this.id, pid: this.pid, parent: this.parent });
    this.#actor = this.#createActor();
    this.#actor.start(); // children exist when start() returns
    return this;
  }

  /** The machine's actor, made when the supervisor starts (never inside another actor's action: see #spawnChild). */
  #createActor(): Actor<typeof supervisorMachine> {
    const logic = supervisorMachine.provide({
      actions: {
        // Spawning is synchronous: the outcome goes back to the machine, which handles it after the current step.
        startChildren: ({ self }, { children }) => {
          const results: SpawnResult[] = children.map(({ key, spec: child }) => {
            try {
              return { key, pid: this.#spawnChild(child) };
            } catch (err) {
              return { key, error: toExitError(err, "spawn") };
            }
          });
          self.send({ type: "SPAWNED", results, at: this.#clock.now(), random: this.#clock.random() });
          // A code-started child may hand back a process that is already gone: all we can report is noproc.
          for (const r of results) {
            if ("pid" in r && !this.#rt.table.get(r.pid) && !this.#rt.table.isRemote(r.pid)) {
              self.send({ type: "EXIT", pid: r.pid, result: { error: { kind: "noproc", message: `process ${r.pid} had already exited` } }, at: this.#clock.now(), random: this.#clock.random() });
            }
          }
        },
        stopChild: (_, params) => this.#stopChild(params),
        reply: (_, params) => this.#reply(params),
      },
    });
    // one actor system per runtime: shown under its parent supervisor, else under its host
    const parent = this.#opts.parentActor?.() ?? this.#rt.hostActor(this.host);
    const actor = this.#rt.track(createActor(logic, {
      id: this.spec.id,
      parent,
      input: { spec: this.spec, pid: this.pid },
      ...(this.#opts.timers ? { clock: this.#opts.timers } : {}),
    }));
    actor.on("*", (e) => this.#notify(e));
    actor.subscribe({
      complete: () => this.#finish(actor.getSnapshot().output ?? { value: null }),
      error: (err) => this.#crash(err),
    });
    return actor;
  }

  /** The machine's state: starting, running, stopping, stopped. */
  get supervisorState(): SupervisorState {
    if (this.#result) return "stopped";
    return this.#actor ? supervisorState(this.#actor.getSnapshot().value) : "starting";
  }

  get result(): ExitResult | null {
    return this.#result;
  }

  /** The lifecycle state a process listing shows: a supervisor waits for events between its steps. */
  state(): ProcessState {
    return this.#result ? "closed" : "suspended";
  }

  memory(): number {
    return 0;
  }

  /** `[{ id, pid, kind, state, restarts }]` in start order. */
  children(): ChildInfo[] {
    return childInfo(this.#book);
  }

  countChildren(): ChildCounts {
    return countChildren(this.#book);
  }

  /** Sends a child request to the machine; settles with its reply (a pid, null, or a ChildError/ProcessError). */
  request(req: ChildRequestInput): Promise<string | null> {
    if (this.#result) return Promise.reject(new ProcessError("noproc", `supervisor ${this.id} has stopped; start it again first`));
    const request = ++this.#requests;
    const settled = new Promise<string | null>((resolve, reject) => this.#pending.set(request, { resolve, reject }));
    const event: ChildRequest = req.type === "START_CHILD" ? { type: req.type, spec: req.spec, request } : { type: req.type, id: req.id, request };
    this.#send(event);
    return settled;
  }

  /** Orderly shutdown: children stop in reverse start order; resolves with the exit result. */
  stop(reason = "stopped"): Promise<ExitResult> {
    this.#send({ type: "STOP", reason });
    return this.done;
  }

  /** Brutal: every child is killed at once, latest first; the supervisor ends with `error`. */
  kill(error: ExitError): void {
    if (this.#result) return;
    this.mailbox.listener = undefined;

    this.#killChildren(`supervisor ${this.id} was killed`);
    this.#actor?.send({ type: "KILL", error }); // final at once; its completion finishes us too
    this.#finish({ error });
  }

  get #book(): Book {
    return this.#actor?.getSnapshot().context.book ?? this.#initialBook;
  }

  #notify(event: SupervisionEvent): void {
    this.#opts.notify?.(event);
  }

  #send(event: SupervisorMachineEvent): void {
    if (this.#result) return;
    if (this.#actor) this.#actor.send(event);
    else queueMicrotask(() => this.#send(event)); // a nested supervisor starts in the microtask after its creation
  }

  #onMail(ev: MailboxEvent): void {
    switch (ev.type) {
      case "EXIT":
        this.#send({ type: "EXIT", pid: ev.from, result: "error" in ev ? { error: ev.error } : { value: ev.value }, at: this.#clock.now(), random: this.#clock.random() });
        break;
      case "CANCEL":
        this.#send({ type: "STOP", reason: typeof ev.reason === "string" ? ev.reason : (JSON.stringify(ev.reason) ?? "cancelled") });
        break;
      case "LINK_DOWN":
        this.#send({ type: "FAIL", error: { kind: "link", message: `linked process ${ev.from} failed (${ev.error.kind}): ${ev.error.message}` } });
        break;
      case "MESSAGE":
        break; // supervisors take no messages
    }
  }

  #spawnChild(spec: ChildSpec): string {
    switch (spec.kind) {
      case "service":
        return this.#rt.spawn(spec.process, spec.host, spec.input, { monitor: this.pid, placement: spec.placement, ...this.#childParent() });
      case "actor":
      {
        const host = spec.host ?? this.spec.host; // else the registry's only host
        return this.#rt.spawnActor(spec.actor, { ...(host ? { host } : {}), input: spec.input, monitor: this.pid, ...this.#childParent() });
      }
      case "supervisor": {
        const sub = new SupervisorProcess(this.#rt, spec.supervisor, { ...this.#opts, parent: this.pid, root: this.root, parentActor: () => this.#actor });
        // Its actor starts right after this step rather than inside this action, so its own actions never run
        // inside another actor's; its failures reach us as its EXIT either way.
        queueMicrotask(() => sub.start());
        return sub.pid;
      }
      case "custom": {
        const pid = spec.start({ supervisor: this.pid });
        if (typeof pid !== "string") throw new ProcessError("spawn", `start of ${spec.id} returned ${String(pid)}, not a pid`);
        this.#rt.table.get(pid)?.monitors.add(this.pid);
        return pid;
      }
    }
  }

  /** Children are shown under this supervisor's actor. */
  #childParent(): { parent?: AnyActorRef } {
    return this.#actor ? { parent: this.#actor } : {};
  }

  #stopChild(p: StopChildParams): void {
    const rec = this.#rt.table.get(p.pid);
    if (!rec) {
      // on another node: the cancel goes there; here, its EXIT is already on the way
      if (this.#rt.table.isRemote(p.pid)) this.#rt.cancel(this.pid, p.pid, p.reason, Number.isFinite(p.spec.stopTimeout) ? p.spec.stopTimeout : undefined);
      return;
    }
    // A nested supervisor stops its own children within their timeouts: no kill timer over it unless asked.
    if (Number.isFinite(p.spec.stopTimeout)) this.#rt.cancel(this.pid, p.pid, p.reason, p.spec.stopTimeout);
    else rec.mailbox.deliver({ type: "CANCEL", from: this.pid, reason: p.reason });
  }

  #reply({ request, reply }: ReplyParams): void {
    const pending = this.#pending.get(request);
    if (!pending) return;
    this.#pending.delete(request);
    settle(pending, reply);
  }

  #killChildren(message: string): void {
    const kids = this.children();
    for (let i = kids.length - 1; i >= 0; i--) {
      const pid = kids[i]!.pid;
      if (pid === null) continue;
      const rec = this.#rt.table.get(pid);
      if (rec) rec.kill({ kind: "killed", message });
      else this.#rt.table.terminate(this.pid, pid); // a child on another node
    }
  }

  /** The machine itself threw: take the children down with us rather than orphan them. */
  #crash(err: unknown): void {
    if (this.#result) return;
    this.mailbox.listener = undefined;
    this.#killChildren(`supervisor ${this.id} crashed`);
    this.#finish({ error: { kind: "trap", message: `supervisor ${this.id} crashed: ${err instanceof Error ? err.message : String(err)}` } });
  }

  #finish(result: ExitResult): void {
    if (this.#result) return;
    this.#result = result;
    for (const pending of this.#pending.values()) pending.reject(new ProcessError("noproc", `supervisor ${this.id} stopped before answering`));
    this.#pending.clear();
    this.#notify({ type: "supervisor.exited", supervisor: this.id, pid: this.pid, parent: this.parent, result });
    this.#rt.table.exit(this.pid, result);
    this.#resolveDone(result);
  }
}

function settle(p: { resolve: (pid: string | null) => void; reject: (err: Error) => void }, reply: ChildReply): void {
  if ("ok" in reply) p.resolve(reply.ok);
  else if ("refused" in reply) p.reject(new ChildError(reply.refused, reply.message));
  else p.reject(new ProcessError(reply.failed.kind, reply.failed.message));
}
