// A supervisor as a process: a pid in the table, a mailbox whose EXIT events
// drive its machine, and the effects the machine asks for (spawn, cancel) run
// against the runtime. Its own end is an EXIT like any process's, which is how
// a parent supervisor sees a child supervisor fail (escalation).

import { customAlphabet } from "nanoid";
import { createActor, type Actor, type ActorOptions, type AnyActorLogic, type InspectionEvent, type Observer } from "xstate";
import { supervisorMachine, supervisorPhase, type SupervisorEmitted, type SupervisorMachineEvent, type SupervisorPhase, type StopChildParams } from "../../machines/supervisor.ts";
import type { ProcessState } from "../../machines/process.ts";
import type { SupervisorBook, ChildInfo, SupervisorClock } from "../../supervisors/bookkeeping.ts";
import type { ChildSpec, SupervisorSpec } from "../../supervisors/spec.ts";
import type { MailboxEvent } from "../process/events.ts";
import { ProcessError, toExitError, type ExitError, type ExitResult } from "../process/exit.ts";
import { ProcessBase } from "../process/record.ts";
import type { ProcessTable } from "../process/table.ts";

type Clock = NonNullable<ActorOptions<AnyActorLogic>["clock"]>;

const nanoid = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 12);

/** What a supervisor needs from the runtime. */
export interface SupervisionRuntime {
  readonly table: ProcessTable;
  spawn(id: string, host: string, args: unknown[], opts: { monitor?: string; link?: string }): string;
  cancel(from: string, pid: string, reason: unknown, timeoutMs?: number): void;
}

export type SupervisionEvent =
  | SupervisorEmitted
  | { type: "child.started"; supervisor: string; child: string; pid: string; restarts: number; previousPid: string | null; lastExit: ExitResult | null }
  | { type: "supervisor.started"; supervisor: string; pid: string; parent: string | null }
  | { type: "supervisor.exited"; supervisor: string; pid: string; parent: string | null; result: ExitResult };

export interface SupervisorProcessOptions {
  /** Time and randomness for intensity and backoff (tests inject their own). */
  clock?: SupervisorClock;
  /** Timers for restart delays (XState's clock). */
  timers?: Clock;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  notify?: (event: SupervisionEvent) => void;
  /** Called with every supervisor of the tree as it starts (nested ones too). */
  register?: (sup: SupervisorProcess) => void;
  /** The parent supervisor's pid: it monitors this one. */
  parent?: string;
  /** The top-level supervisor of this tree. */
  root?: SupervisorProcess;
}

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
  readonly #actor: Actor<typeof supervisorMachine>;
  #resolveDone!: (r: ExitResult) => void;
  #result: ExitResult | null = null;
  /**
   * Mail and effects are processed by one loop (#pump), in a microtask after
   * whatever delivered them: a supervisor never reacts inside the table's
   * delivery of an EXIT (other monitors get it first, so everyone sees ends in
   * the order they happened), a child's EXIT never overtakes its own start, and
   * 10 000 EXIT → stop-next rounds stay flat instead of recursing.
   */
  #inbox: SupervisorMachineEvent[] = [];
  #effects: (() => void)[] = [];
  #pumping = false;
  #scheduled = false;

  constructor(rt: SupervisionRuntime, spec: SupervisorSpec, opts: SupervisorProcessOptions = {}) {
    // entry "": supervisors are not WASM processes and stay out of `runtime.processes()`.
    // trapLinks: a linked failure becomes an orderly shutdown with kind `link`.
    const host = spec.host ?? SUPERVISOR_HOST;
    super(`{${host}|${nanoid()}}`, spec.id, host, { trapLinks: true });
    this.#rt = rt;
    this.#opts = opts;
    this.spec = spec;
    this.id = spec.id;
    this.root = opts.root ?? this;
    this.parent = opts.parent ?? null;
    this.#clock = opts.clock ?? { now: () => Date.now(), random: () => Math.random() };
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    const logic = supervisorMachine.provide({
      actions: {
        startChildren: ({ context }, params) => void this.#effects.push(() => this.#startChildren(context.book, params.indices)),
        stopChild: (_, params) => void this.#effects.push(() => this.#stopChild(params)),
      },
    });
    this.#actor = createActor(logic, {
      id: this.pid,
      input: { spec, pid: this.pid, clock: this.#clock },
      ...(opts.timers ? { clock: opts.timers } : {}),
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
    });
    this.#actor.on("*", (e) => this.#notify(e));
    this.#actor.subscribe({
      // After every step, including those of the machine's own timers (restart delays).
      next: () => {
        if (this.#effects.length > 0) this.#schedule();
      },
      complete: () => this.#finish(this.#actor.getSnapshot().output ?? { value: null }),
      error: (err) => this.#crash(err),
    });
    rt.table.add(this);
    if (opts.parent) this.monitors.add(opts.parent);
    this.mailbox.listener = (ev) => this.#onMail(ev);
  }

  /** Starts the children in order; failures from here on arrive as this process's EXIT. */
  start(): this {
    this.#opts.register?.(this);
    this.#notify({ type: "supervisor.started", supervisor: this.id, pid: this.pid, parent: this.parent });
    this.#pumping = true;
    try {
      this.#actor.start();
    } finally {
      this.#pumping = false;
    }
    this.#pump(); // children exist when start() returns
    return this;
  }

  get phase(): SupervisorPhase {
    return this.#result ? "stopped" : supervisorPhase(this.#actor.getSnapshot().value);
  }

  get result(): ExitResult | null {
    return this.#result;
  }

  state(): ProcessState {
    return this.#result ? "closed" : "suspended";
  }

  memory(): number {
    return 0;
  }

  children(): ChildInfo[] {
    return this.#book.info();
  }

  /** Orderly shutdown: children stop in reverse start order; resolves with the exit result. */
  stop(reason = "stopped"): Promise<ExitResult> {
    if (!this.#result) this.#post({ type: "STOP", reason });
    return this.done;
  }

  /** Brutal: every child is killed at once, latest first; the supervisor ends with `error`. */
  kill(error: ExitError): void {
    if (this.#result) return;
    this.mailbox.listener = undefined;
    this.#effects = [];
    this.#killChildren(`supervisor ${this.id} was killed`);
    this.#actor.stop();
    this.#finish({ error });
  }

  get #book(): SupervisorBook {
    return this.#actor.getSnapshot().context.book;
  }

  #notify(event: SupervisionEvent): void {
    this.#opts.notify?.(event);
  }

  #post(event: SupervisorMachineEvent): void {
    if (this.#result) return;
    this.#inbox.push(event);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#pumping) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  /** Effects of the last step first, then the next event; until both are empty. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    let head = 0;
    try {
      for (;;) {
        if (this.#effects.length > 0) {
          const batch = this.#effects;
          this.#effects = [];
          for (const run of batch) run();
          continue;
        }
        if (head < this.#inbox.length && !this.#result) {
          this.#actor.send(this.#inbox[head++]!);
          continue;
        }
        break;
      }
    } finally {
      this.#inbox = this.#inbox.slice(head); // empty unless something threw
      this.#pumping = false;
    }
  }

  #onMail(ev: MailboxEvent): boolean {
    switch (ev.type) {
      case "EXIT":
        this.#post({ type: "EXIT", pid: ev.from, result: "error" in ev ? { error: ev.error } : { value: ev.value }, at: this.#clock.now() });
        break;
      case "CANCEL":
        this.#post({ type: "STOP", reason: typeof ev.reason === "string" ? ev.reason : (JSON.stringify(ev.reason) ?? "cancelled") });
        break;
      case "LINK_DOWN":
        this.#post({ type: "FAIL", error: { kind: "link", message: `linked process ${ev.from} failed (${ev.error.kind}): ${ev.error.message}` } });
        break;
      case "MESSAGE":
        break; // supervisors take no messages; dropping them keeps the mailbox empty
    }
    return true;
  }

  #startChildren(book: SupervisorBook, indices: number[]): void {
    for (const i of indices) {
      const child = book.children[i]!;
      try {
        const pid = this.#spawnChild(child.spec);
        book.started(i, pid, this.#clock.now());
        this.#notify({
          type: "child.started", supervisor: this.id, child: child.spec.id, pid, restarts: child.restarts, previousPid: child.previousPid, lastExit: child.lastExit,
        });
      } catch (err) {
        this.#post({ type: "CHILD_FAILED", index: i, error: toExitError(err, "spawn"), at: this.#clock.now() });
      }
    }
    // spawning happened outside the machine: let it see that its children are up
    this.#post({ type: "STARTED" });
  }

  #spawnChild(spec: ChildSpec): string {
    switch (spec.kind) {
      case "service":
        return this.#rt.spawn(spec.process, spec.host, spec.input, { monitor: this.pid });
      case "supervisor": {
        const sub = new SupervisorProcess(this.#rt, spec.supervisor, { ...this.#opts, parent: this.pid, root: this.root });
        return sub.start().pid;
      }
      case "custom": {
        const pid = spec.start({ supervisor: this.pid });
        if (typeof pid !== "string") throw new ProcessError("spawn", `start of ${spec.id} returned ${String(pid)}, not a pid`);
        const rec = this.#rt.table.get(pid);
        if (rec) rec.monitors.add(this.pid);
        else if (!this.#inbox.some((e) => e.type === "EXIT" && e.pid === pid)) {
          // Already gone, and not monitored by us: all we can report is noproc.
          this.#inbox.push({ type: "EXIT", pid, result: { error: { kind: "noproc", message: `process ${pid} had already exited` } }, at: this.#clock.now() });
        }
        return pid;
      }
    }
  }

  #stopChild(p: StopChildParams): void {
    const rec = this.#rt.table.get(p.pid);
    if (!rec) return; // its EXIT is already on the way
    // A nested supervisor stops its own children within their timeouts: no kill timer over it unless asked.
    if (Number.isFinite(p.spec.stopTimeout)) this.#rt.cancel(this.pid, p.pid, p.reason, p.spec.stopTimeout);
    else rec.mailbox.deliver({ type: "CANCEL", from: this.pid, reason: p.reason });
  }

  #killChildren(message: string): void {
    const kids = this.#book.children;
    for (let i = kids.length - 1; i >= 0; i--) {
      const pid = kids[i]!.pid;
      if (pid !== null) this.#rt.table.get(pid)?.kill({ kind: "killed", message });
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
    this.#notify({ type: "supervisor.exited", supervisor: this.id, pid: this.pid, parent: this.parent, result });
    this.#rt.table.exit(this.pid, result);
    this.#resolveDone(result);
  }
}
