// All supervision trees of a runtime: starting them (from the registry or from
// code), finding supervisors by ID, and stopping the top-level ones in
// reverse start order when the runtime closes.

import { splitHost } from "../process/pid.ts";
import type { ChildCounts, ChildInfo } from "../../supervisors/bookkeeping.ts";
import { normalizeChild, normalizeSupervisor, type ChildInput, type NormalizeOptions, type SupervisorInput, type SupervisorSpec } from "../../supervisors/spec.ts";
import type { SupervisorState } from "../../machines/supervisor.ts";
import type { ExitResult } from "../process/exit.ts";
import type { Registry } from "../registry/types.ts";
import { autoStartSpecs, childFromRegistry } from "./registry-specs.ts";
import { SupervisorProcess, type SupervisionEvent, type SupervisionRuntime, type SupervisorClock } from "./supervisor-process.ts";

export interface SupervisionHost extends SupervisionRuntime {
  readonly registry: Registry;
  readonly hosts: ReadonlyMap<string, unknown>;
}

export interface SupervisionOptions {
  clock?: SupervisorClock;
}

/**
 * A supervisor by ID (OTP's child API, SPEC 4.3): always the current
 * incarnation (a restarted supervisor has a new pid). A refused request
 * rejects with a ChildError and leaves the supervisor as it was.
 */
export class SupervisorRef {
  readonly id: string;
  readonly #tree: Supervision;
  constructor(tree: Supervision, id: string) {
    this.#tree = tree;
    this.id = id;
  }
  get #proc(): SupervisorProcess {
    const p = this.#tree.find(this.id);
    if (!p) throw new Error(`no supervisor ${this.id} has been started`);
    return p;
  }
  get pid(): string {
    return this.#proc.pid;
  }
  /** The machine's state: starting, running, stopping, stopped. */
  get state(): SupervisorState {
    return this.#proc.supervisorState;
  }
  /** Starts a new child (the input of a startSupervisor child, or a registry entry ID) → its pid. */
  async startChild(child: ChildInput | string): Promise<string> {
    const proc = this.#proc;
    const spec = normalizeChild(child, this.#tree.normalizeOptions(), `supervisor ${this.id}: startChild`);
    return (await proc.request({ type: "START_CHILD", spec }))!;
  }
  /** Stops a child and keeps its spec (state `stopped`, not restarted); resolves once it is down. */
  async terminateChild(childId: string): Promise<void> {
    await this.#proc.request({ type: "TERMINATE_CHILD", id: childId });
  }
  /** Starts a terminated child again → its pid. */
  async restartChild(childId: string): Promise<string> {
    return (await this.#proc.request({ type: "RESTART_CHILD", id: childId }))!;
  }
  /** Forgets a terminated child's spec. */
  async deleteChild(childId: string): Promise<void> {
    await this.#proc.request({ type: "DELETE_CHILD", id: childId });
  }
  /** `[{ id, pid, kind, state, restarts }]` in start order; pid is null while a child is not running. */
  async whichChildren(): Promise<ChildInfo[]> {
    return this.#proc.children();
  }
  /** Alias of whichChildren(). */
  children(): Promise<ChildInfo[]> {
    return this.whichChildren();
  }
  async countChildren(): Promise<ChildCounts> {
    return this.#proc.countChildren();
  }
  /** Orderly shutdown of this supervisor and everything under it. */
  stop(reason?: string): Promise<ExitResult> {
    return this.#proc.stop(reason);
  }
  /** Resolves when the current incarnation ends. */
  get done(): Promise<ExitResult> {
    return this.#proc.done;
  }
}

export class Supervision {
  readonly #host: SupervisionHost;
  readonly #opts: SupervisionOptions;
  /** Latest incarnation of every supervisor ID, nested ones included. */
  readonly #byId = new Map<string, SupervisorProcess>();
  /** Live top-level supervisors in start order. */
  readonly #top: SupervisorProcess[] = [];
  readonly #listeners = new Set<(e: SupervisionEvent) => void>();

  constructor(host: SupervisionHost, opts: SupervisionOptions = {}) {
    this.#host = host;
    this.#opts = opts;
  }

  on(listener: (e: SupervisionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  find(id: string): SupervisorProcess | undefined {
    return this.#byId.get(id);
  }

  ref(id: string): SupervisorRef {
    if (!this.#byId.has(id)) throw new Error(`no supervisor ${id} has been started${this.#byId.size > 0 ? ` (started: ${[...this.#byId.keys()].join(", ")})` : ""}`);
    return new SupervisorRef(this, id);
  }

  /** Top-level supervisors that are running, in start order. */
  running(): SupervisorProcess[] {
    return [...this.#top];
  }

  /** Starts what the registry marks auto_start. */
  startAutoStart(): SupervisorProcess[] {
    return autoStartSpecs(this.#host.registry).map((spec) => this.start(spec));
  }

  /** Validates a tree built in code (children may be registry entry IDs) and starts it. */
  startFromInput(input: SupervisorInput): SupervisorProcess {
    return this.start(normalizeSupervisor(input, this.normalizeOptions()));
  }

  /** How code-given trees and children are checked against this runtime's registry. */
  normalizeOptions(): NormalizeOptions {
    const { registry, hosts } = this.#host;
    return {
      resolve: (id) => childFromRegistry(registry, id),
      checkService: (c) => {
        const e = registry.entries.get(c.process);
        if (!e) return `process ${c.process}: no such entry in the registry`;
        if (e.kind !== "process.wasm" && e.kind !== "process.lua" && e.kind !== "process.actor") return `process ${c.process} is a ${e.kind}, not a process.wasm, process.lua or process.actor entry`;
        // `<node>@<host>`: a host of another node, which has it too (a placement: any child restarts here)
        const { host } = splitHost(c.host);
        if (!hosts.has(host)) return `host ${host}: no such process.host`;
        return undefined;
      },
      checkHost: (host) => (host === undefined || hosts.has(host) ? undefined : `host ${host}: no such process.host`),
    };
  }

  start(spec: SupervisorSpec): SupervisorProcess {
    const live = this.#byId.get(spec.id);
    if (live && !live.result) throw new Error(`supervisor ${spec.id} is already running as ${live.pid}`);
    const sup = new SupervisorProcess(this.#host, spec, {
      ...(this.#opts.clock ? { clock: this.#opts.clock } : {}),
      notify: (e) => this.#notify(e),
      register: (s) => this.#byId.set(s.id, s),
    });
    this.#top.push(sup);
    sup.done.then(() => this.#ended(sup));
    return sup.start();
  }

  /** Stops the top-level supervisors one after another, latest first. */
  async stopAll(reason = "runtime closing"): Promise<void> {
    for (let sup = this.#top.at(-1); sup; sup = this.#top.at(-1)) {
      await sup.stop(reason);
      this.#ended(sup);
    }
  }

  #ended(sup: SupervisorProcess): void {
    const i = this.#top.indexOf(sup);
    if (i < 0) return;
    this.#top.splice(i, 1);
    // #byId keeps the last incarnations, so an ended tree can still be inspected; starting the ID again replaces them.
  }

  #notify(e: SupervisionEvent): void {
    for (const l of this.#listeners) l(e);
  }
}
