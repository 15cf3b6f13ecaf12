// The runtime: a loaded registry, its process hosts, the process table, one
// actor system for inspection, and the API of SPEC section 4.

import type { AnyActorLogic, AnyActorRef } from "xstate";
import { loadRegistry, type LoadOptions } from "./registry/load.ts";
import type { Entry, ProcessHostEntry, Registry, WasmEntry } from "./registry/types.ts";
import { ProcessError, isExitError, type ExitResult } from "./process/exit.ts";
import { ProcessApi, type ActorSpawnOptions, type ProcessCore, type SpawnOptions } from "./process/api.ts";
import { resolveActors } from "./process/actor-module.ts";
import { isActorLogic, LOGIC_KINDS } from "./process/actor-logic.ts";
import { ActorTree, type InspectObserver } from "./process/actor-tree.ts";
import { actorKit, hasActorKit, loadActorKit } from "./process/actor-kit.ts";
import { exitEvent, type ExitEvent } from "./process/events.ts";
import { HandleProcess } from "./process/handle-process.ts";
import { ProcessHost } from "./process/host.ts";
import { DEFAULT_CANCEL_TIMEOUT_MS, ProcessTable, type ProcessInfo } from "./process/table.ts";
import { WasmProcess, type WasmProcessDeps } from "./process/wasm-process.ts";
import { LuaProcess, luaWasmEntry } from "./lua/lua-process.ts";
import { ProgramLoader, type LoaderStats } from "./wasm/loader.ts";
import { createLogger } from "./log.ts";
import type { ProcessIO } from "./wasm/program.ts";
import type { PrepareProgress } from "./wasm/prepare-progress.ts";
import { componentImports } from "./wasi/component-host.ts";
import { coreImportGroup, createCoreImports } from "./wasi/core-host.ts";
import { callFunction, type CallOptions } from "./process/call.ts";
import { checkId, checkTimeout } from "./process/arguments.ts";
import { wasmProcessIO } from "./guest/process-io.ts";
import { splitHost } from "./process/pid.ts";
import type { PoolContext, WorkerPool } from "./threads/pool.ts";
import { startNamedPools, workerPools } from "./threads/workers.ts";
import type { ClusterNode, NodeInfo } from "./cluster/node.ts";
import { checkCluster, type ClusterOptions } from "./cluster/options.ts";
import type { ProcessRecord } from "./process/record.ts";
import { streamOutput, type IOContext, type Stdio } from "./process/io.ts";
import type { Supervision, SupervisorRef } from "./supervision/tree.ts";
import type { SupervisionEvent } from "./supervision/supervisor-process.ts";
import type { SupervisorInput } from "../supervisors/spec.ts";

export interface RuntimeOptions extends LoadOptions {
  /** An already loaded registry (skips reading YAML). */
  registry?: Registry;
  /** Where transpiled components are cached (default: $WIPPY_CACHE_DIR or ~/.cache/wippy). */
  cacheDir?: string;
  /** Guest stdio; default: guest output goes to this Node process's stdout/stderr, stdin is empty. */
  stdio?: Partial<Stdio>;
  /** Receives the XState inspection events of the runtime's whole actor system. */
  inspect?: InspectObserver;
  /** Logic of `process.actor` entries, by entry ID (overrides an entry's `module`). */
  actors?: Record<string, AnyActorLogic>;
  /** Start `auto_start` services and supervisors (default true). */
  autoStart?: boolean;
  /** Join a cluster of nodes over NATS (section 9). */
  cluster?: ClusterOptions;
  /** Receives every supervision event (child starts, restarts, exits), from the auto_start trees on. */
  onSupervisorEvent?: (event: SupervisionEvent) => void;
  /**
   * Called when a binary is actually transpiled or instrumented (a cache miss, not a warm run),
   * so a CLI can say why it waits; `done` settles when that preparation ends.
   */
  onPrepare?: (entryId: string, path: string, done: Promise<void>, progress: PrepareProgress) => void;
}

/** The caller's own process: the process API plus `close()`. */
export interface OwnProcess extends ProcessApi {
  /** Ends this process normally (monitors get an EXIT with value null). */
  close(): void;
}

const RUNTIME_HOST = "runtime";

interface Internals {
  readonly pools: ReadonlyMap<string, WorkerPool>;
  readonly table: ProcessTable;
  readonly hosts: ReadonlyMap<string, ProcessHost>;
  readonly tree: ActorTree;
  readonly supervision: Supervision;
  /** This runtime as a node of a cluster, once joined (section 9). */
  cluster?: ClusterNode;
}
const internals = new WeakMap<Runtime, Internals>();

/** The runtime's table, hosts and actor tree, for the runtime's own modules (observer, CLI, tests); not part of the API. */
export function runtimeInternals(rt: Runtime): Internals {
  return internals.get(rt)!;
}

export class Runtime {
  readonly registry: Registry;
  /** The calling program's own mailbox, as a process. */
  readonly process: OwnProcess;
  readonly #table: ProcessTable;
  /** This runtime as a node of a cluster (section 9). */
  #cluster: ClusterNode | undefined;
  readonly #hosts = new Map<string, ProcessHost>();
  readonly #tree: ActorTree;
  /** Made with the first actor (supervisors are actors): a runtime of WASM processes alone never loads XState. */
  #supervision: Supervision | undefined;
  readonly #onSupervisorEvent: ((event: SupervisionEvent) => void) | undefined;
  readonly #loader: ProgramLoader;
  readonly #stdio: Stdio;
  readonly #env: Record<string, string | undefined>;
  readonly #actors: Map<string, AnyActorLogic>;
  readonly #core: ProcessCore & { answersLater: boolean } & { cancel(from: string, pid: string, reason: unknown, timeoutMs?: number): void; spawn(id: string, host: string, args: unknown[], opts: SpawnOptions & { parent?: AnyActorRef }): string | Promise<string> };
  #closed = false;
  #closing: Promise<void> | undefined;
  /** What every WASM process is given: one object for all of them, not one per spawn. */
  #wasmDeps: WasmProcessDeps | undefined;
  #ioContext: IOContext | undefined;
  /** The worker threads of hosts with `workers` (section 8), by host ID. */
  readonly #pools: ReadonlyMap<string, WorkerPool>;
  #threads = 0;

  private constructor(registry: Registry, opts: RuntimeOptions & { node?: string }) {
    this.registry = registry;
    this.#table = new ProcessTable(opts.node);
    this.#env = opts.env ?? process.env;
    this.#stdio = {
      stdout: opts.stdio?.stdout ?? streamOutput(process.stdout),
      stderr: opts.stdio?.stderr ?? streamOutput(process.stderr),
      ...(opts.stdio?.stdin ? { stdin: opts.stdio.stdin } : {}),
    };
    this.#loader = new ProgramLoader(registry, {
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      coreImports: createCoreImports(),
      componentImports,
      log: createLogger(this.#env),
      capabilities: { coreGroup: coreImportGroup },
      ...(opts.onPrepare ? { onPrepare: opts.onPrepare } : {}),
    });
    this.#actors = new Map(Object.entries(opts.actors ?? {}));
    this.#tree = new ActorTree(registry.root, opts.inspect);
    for (const e of registry.entries.values()) {
      if (e.kind === "process.host") this.#hosts.set(e.id, hostFor(e, this.#tree, this.#table));
    }
    this.#hosts.set(RUNTIME_HOST, new ProcessHost(RUNTIME_HOST, this.#tree, { newPid: (h) => this.#table.newPid(h) }));
    this.#pools = workerPools(registry, this.#hosts, this.#poolContext());
    this.#tree.onAttach(() => {
      for (const rec of this.#table.all()) if (rec instanceof WasmProcess) rec.inspectNow();
      for (const pool of this.#pools.values()) pool.inspect();
    });
    const table = this.#table;
    this.#core = {
      table,
      // with worker threads or in a cluster, a guest's send, spawn and link may be answered by
      // another thread or node: the guest suspends on them
      answersLater: opts.node !== undefined || this.#pools.size > 0,
      spawn: (id, host, args, o) => this.#spawn(id, host, args, o),
      // the first actor of a runtime without any may wait for XState to load
      spawnActor: (logic, o) => (hasActorKit() ? this.#spawnActor(logic, o) : loadActorKit().then(() => this.#spawnActor(logic, o))),
      newHandle: (host) => new HandleProcess(table, table.newPid(host), host),
      cancel: (from, pid, reason, timeoutMs) => table.cancel(from, pid, reason, timeoutMs),
    };
    this.process = this.#ownProcess();
    this.#onSupervisorEvent = opts.onSupervisorEvent;
    if (hasActorKit()) this.#supervised();
    const self = this;
    internals.set(this, {
      table, hosts: this.#hosts, tree: this.#tree, pools: this.#pools,
      get supervision() {
        return self.#supervised();
      },
    });
  }

  /** The supervision trees, made with the first need of them (XState is loaded by then). */
  #supervised(): Supervision {
    if (this.#supervision) return this.#supervision;
    const { Supervision } = actorKit();
    this.#supervision = new Supervision({
      registry: this.registry,
      hosts: this.#hosts,
      table: this.#table,
      spawn: (id, host, args, o) => this.#spawnChild(id, host, args, o),
      spawnActor: (logic, o) => this.#spawnActor(logic, o),
      cancel: this.#core.cancel,
      hostActor: (host) => (this.#hosts.get(host) ?? this.#hosts.get(RUNTIME_HOST)!).actor,
      track: (a) => this.#tree.track(a),
    });
    if (this.#onSupervisorEvent) this.#supervision.on(this.#onSupervisorEvent);
    return this.#supervision;
  }

  /** Loads the registry and starts what is marked `auto_start`. */
  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const cluster = opts.cluster ? checkCluster(opts.cluster) : undefined;
    const registry = opts.registry ?? (await loadRegistry(opts));
    if (!onDemand.has(opts) || needsActors(registry, opts)) await loadActorKit();
    const runtime = new Runtime(registry, { ...opts, actors: await resolveActors(registry, opts.actors), ...(cluster ? { node: cluster.node } : {}) });
    if (cluster) {
      // the NATS client loads only for a runtime that joins a cluster (the CLI starts without it)
      const { ClusterNode } = await import("./cluster/node.ts");
      runtime.#cluster = await ClusterNode.join(cluster, { table: runtime.#table, spawn: (id, host, args, o) => runtime.#spawn(id, host, args, o) });
      runtime.#table.connect(runtime.#cluster);
      internals.get(runtime)!.cluster = runtime.#cluster;
    }
    await startNamedPools(registry, runtime.#pools);
    if (opts.autoStart !== false && runtime.#supervision) runtime.#supervision.startAutoStart();
    return runtime;
  }

  /** The nodes of the cluster, this one included (empty outside a cluster): a snapshot. */
  nodes(): NodeInfo[] {
    return this.#cluster?.nodes() ?? [];
  }

  /** Starts a supervision tree built in code; children may also be registry service/supervisor IDs. */
  startSupervisor(input: SupervisorInput): SupervisorRef {
    if (this.#closing) throw new ProcessError("spawn", "the runtime is closed");
    const supervision = this.#supervised();
    return new (actorKit().SupervisorRef)(supervision, supervision.startFromInput(input).id);
  }

  /** A started supervisor (top-level or nested) by ID. */
  supervisor(id: string): SupervisorRef {
    return this.#supervised().ref(id);
  }

  /** Receives every supervision event (child starts, restarts, exits); returns the unsubscribe function. */
  onSupervisorEvent(listener: (event: SupervisionEvent) => void): () => void {
    return this.#supervised().on(listener);
  }

  get loaderStats(): LoaderStats {
    return this.#loader.stats;
  }

  /** A fresh process (mailbox) for TypeScript code; not listed by `processes()`. */
  newProcess(): OwnProcess {
    return this.#ownProcess();
  }

  entry(id: string): Entry | undefined {
    return this.registry.entries.get(id);
  }

  /** A snapshot of every live process (the callers' own handles excepted). */
  processes(): ProcessInfo[] {
    return this.#table.info();
  }

  /** `listener` gets every EXIT of every process, once each; returns the unsubscribe function. */
  onExit(listener: (event: ExitEvent) => void): () => void {
    return this.#table.onExit((pid, result, rec) => {
      if (rec.kind !== "handle") listener(exitEvent(pid, result));
    });
  }

  /** Attaches an inspection observer to the runtime's actor system; it first hears of the actors already running. */
  inspect(observer: InspectObserver): () => void {
    return this.#tree.inspect(observer);
  }

  /** Spawns TypeScript/XState logic as a process, from `runtime.process` (so `monitor: true` delivers the EXIT there). */
  spawnActor(logic: AnyActorLogic, opts: ActorSpawnOptions = {}): Promise<string> {
    return this.process.spawnActor(logic, opts);
  }

  /** Graceful stop of any process from the runtime's own process (CANCEL, then killed after `timeoutMs`). */
  cancel(pid: string, reason: unknown = "cancelled", timeoutMs = DEFAULT_CANCEL_TIMEOUT_MS): Promise<void> {
    return this.process.cancel(pid, reason, timeoutMs);
  }

  #poolContext(): PoolContext {
    return {
      table: this.#table,
      loader: this.#loader,
      registry: this.registry,
      env: this.#env,
      stdio: this.#stdio,
      spawn: (id, host, args, o) => this.#spawn(id, host, args, o),
      nextThread: () => ++this.#threads,
      inspected: () => this.#tree.inspected,
    };
  }

  #ownProcess(): OwnProcess {
    const rec = new HandleProcess(this.#table, this.#table.newPid(RUNTIME_HOST), RUNTIME_HOST);
    const api = new ProcessApi(this.#core, rec) as OwnProcess;
    api.close = () => rec.close();
    return api;
  }

  #host(hostId: string | undefined, what: string): ProcessHost {
    if (hostId === undefined) {
      const declared = [...this.#hosts.keys()].filter((h) => h !== RUNTIME_HOST);
      if (declared.length === 1) return this.#hosts.get(declared[0]!)!;
      throw new ProcessError("spawn", declared.length === 0
        ? `${what}: the registry has no process.host; declare one (kind: process.host)`
        : `${what}: give a host, the registry has several: ${declared.join(", ")}`);
    }
    checkId(what.split(" ")[0]!, "host id", hostId);
    const host = this.#hosts.get(hostId);
    if (!host || hostId === RUNTIME_HOST) {
      throw new ProcessError("spawn", `${what}: no process.host ${hostId} in the registry; declare one (kind: process.host) or use one of ${[...this.#hosts.keys()].filter((h) => h !== RUNTIME_HOST).join(", ") || "(none)"}`);
    }
    return host;
  }

  #spawn(id: string, hostId: string, args: unknown[], opts: SpawnOptions & { parent?: AnyActorRef; pid?: string }): string | Promise<string> {
    checkId("spawn", "entry id", id);
    if (typeof hostId === "string") {
      // "<node>@<ns:host>": another node's host (this node's own name is allowed too)
      const { node, host } = splitHost(hostId);
      hostId = host;
      if (node !== undefined && node !== this.#table.node) {
        const cluster = this.#clusterFor(id, node, host);
        checkId("spawn", "host id", host);
        if (this.#closed) throw new ProcessError("spawn", "the runtime is closed");
        return cluster.spawn(node, id, host, args, opts);
      }
    }
    checkId("spawn", "host id", hostId);
    if (this.#closed) throw new ProcessError("spawn", "the runtime is closed");
    const entry = this.registry.entries.get(id);
    if (!entry) throw new ProcessError("spawn", `no entry ${id} in the registry${suggest(id, this.registry)}`);
    if (entry.kind === "process.actor") {
      const logic = this.#actors.get(id);
      if (!logic) throw new ProcessError("spawn", `${id}: no logic for this process.actor entry; give it a module, or pass it in Runtime.open({ actors: { "${id}": logic } })`);
      return this.#spawnActor(logic, { host: hostId, input: { args }, entry: id, ...opts });
    }
    if (entry.kind !== "process.wasm" && entry.kind !== "process.lua") {
      throw new ProcessError("spawn", `${id} is a ${entry.kind}, not a process.wasm, process.lua or process.actor entry${entry.kind === "function.wasm" ? "; use runtime.call for functions" : ""}`);
    }
    const host = this.#host(hostId, `spawn ${id}`);
    if (entry.kind === "process.lua") luaWasmEntry(entry); // throws when the interpreter is missing, before a host slot is taken
    const pid = host.admit(opts.pid);
    const pool = this.#pools.get(host.id);
    if (pool) {
      const wasmEntry = entry.kind === "process.lua" ? luaWasmEntry(entry) : entry;
      const proc = pool.spawn(wasmEntry, entry.id, entry.kind === "process.lua" ? "lua" : "wasm", pid, opts.parent ?? host.parent);
      this.#enter(proc, opts);
      pool.start(proc, wasmEntry, args);
      return pid;
    }
    const deps = (this.#wasmDeps ??= { table: this.#table, loader: this.#loader, makeIO: (p, a) => this.#makeIO(p, a), tree: this.#tree });
    const proc = entry.kind === "process.lua"
      ? new LuaProcess(deps, entry, host, pid, opts.parent ?? host.parent)
      : new WasmProcess(deps, entry, host, pid, opts.parent ?? host.parent);
    this.#enter(proc, opts);
    proc.start(args);
    return pid;
  }

  /**
   * A supervisor's child: its pid at once, as a supervisor needs. On another node
   * the pid is chosen here and a failed start arrives as its EXIT (kind spawn); a
   * `placement: any` child whose node is down starts on this node instead.
   */
  #spawnChild(id: string, host: string, args: unknown[], opts: SpawnOptions & { parent?: AnyActorRef; placement?: "local" | "any" }): string {
    const { node, host: local } = splitHost(host);
    if (node !== undefined && node !== this.#table.node) {
      const cluster = this.#clusterFor(id, node, local);
      if (opts.placement !== "any" || cluster.isUp(node)) return cluster.spawnNow(node, id, local, args, opts);
      host = local;
    }
    const pid = this.#spawn(id, host, args, opts);
    if (typeof pid !== "string") throw new Error(`spawn of ${id} on this node answered later`); // a host of this node answers at once
    return pid;
  }

  /** The cluster node that reaches `node`, or the spawn error of a runtime outside any cluster. */
  #clusterFor(id: string, node: string, host: string): ClusterNode {
    if (!this.#cluster) throw new ProcessError("spawn", `spawn ${id} on ${node}@${host}: this runtime is not in a cluster; open it with Runtime.open({ cluster }) or wippy run --cluster`);
    return this.#cluster;
  }

  #spawnActor(logic: AnyActorLogic, opts: { host?: string; input?: unknown; entry?: string | null; parent?: AnyActorRef } & SpawnOptions): string {
    if (this.#closed) throw new ProcessError("spawn", "the runtime is closed");
    if (!isActorLogic(logic)) throw new TypeError(`spawnActor: logic must be XState actor logic (${LOGIC_KINDS})`);
    const host = this.#host(opts.host, "spawnActor");
    const entryLimits = opts.entry ? (this.registry.entries.get(opts.entry) as { limits?: { maxMailbox?: number } } | undefined)?.limits : undefined;
    const maxMailbox = entryLimits?.maxMailbox ?? host.limits.maxMailbox;
    const pid = host.admit();
    const proc = new (actorKit().ActorProcess)(this.#core, {
      pid, entry: opts.entry ?? null, host: host.id, logic, input: opts.input, parent: opts.parent ?? host.actor,
      ...(maxMailbox !== undefined ? { maxMailbox } : {}),
      onEnd: () => host.release(),
      track: (a) => this.#tree.track(a),
    });
    this.#enter(proc, opts);
    proc.start();
    return pid;
  }

  #enter(proc: ProcessRecord, opts: SpawnOptions): void {
    this.#table.add(proc);
    if (opts.monitor) proc.monitors.add(opts.monitor);
    if (opts.link) {
      try {
        this.#table.link(opts.link, proc.pid);
      } catch (err) {
        proc.kill({ kind: "link", message: `spawned linked to ${opts.link}, which has ended` });
        throw err;
      }
    }
  }

  /** Calls a `function.wasm` entry: instantiate, call, free; no process, but the entry's limits apply. */
  call(id: string, ...args: unknown[]): Promise<unknown> {
    return this.callWith({}, id, ...args);
  }

  /** `call`, with a signal that ends it (kind `cancelled`). */
  async callWith(opts: CallOptions, id: string, ...args: unknown[]): Promise<unknown> {
    checkId("call", "function id", id);
    const entry = this.registry.entries.get(id);
    if (!entry || entry.kind !== "function.wasm") {
      throw new ProcessError("spawn", entry ? `${id} is a ${entry.kind}, not a function.wasm entry` : `no entry ${id} in the registry${suggest(id, this.registry)}`);
    }
    return callFunction({ registry: this.registry, loader: this.#loader, env: this.#env, stdio: this.#stdio }, entry, args, opts);
  }

  #makeIO(proc: WasmProcess, args: unknown[]): ProcessIO {
    this.#ioContext ??= { env: this.#env, registry: this.registry, stdio: this.#stdio };
    return wasmProcessIO(proc, args, this.#ioContext, this.#core);
  }

  /** Stops the supervision trees in order, then ends every other process (CANCEL, then kill after `timeoutMs`) and waits for their EXITs. */
  close(timeoutMs = DEFAULT_CANCEL_TIMEOUT_MS): Promise<void> {
    try {
      checkTimeout("close", timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    // Supervision trees first, latest started first, each child within its stop_timeout.
    await this.#supervision?.stopAll("runtime closing");
    this.#closed = true;
    const pending: Promise<void>[] = [];
    const bodies = [...this.#table.all()].filter((rec) => rec.kind !== "handle");
    for (const rec of bodies) {
      pending.push(new Promise<void>((resolve) => {
        const off = this.#table.onExit((pid) => {
          if (pid === rec.pid) {
            off();
            resolve();
          }
        });
      }));
      this.#table.cancel(this.process.pid, rec.pid, "runtime closing", timeoutMs);
    }
    await Promise.all(pending);
    for (const rec of [...this.#table.all()]) rec.kill({ kind: "killed", message: "runtime closed" });
    for (const host of this.#hosts.values()) host.close();
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    await this.#cluster?.close();
    this.#tree.close();
  }
}

const onDemand = new WeakSet<object>();

/**
 * Marks Runtime.open's options: load XState when an actor first needs it rather than at
 * open, unless the registry or the options call for actors from the start. For a caller
 * that uses no actor API but spawnActor (which then waits for it): the CLI running a
 * command. Not for others: inspect() and startSupervisor() answer at once, so they need it
 * loaded (which the package entry does anyway).
 */
export function actorsOnDemand<T extends RuntimeOptions>(opts: T): T {
  onDemand.add(opts);
  return opts;
}

/**
 * Does this runtime run actors from the start: supervisors and services (auto-started or
 * spawned), process.actor entries, logic given in code, an inspector?
 */
function needsActors(registry: Registry, opts: RuntimeOptions): boolean {
  if (opts.inspect !== undefined || Object.keys(opts.actors ?? {}).length > 0) return true;
  for (const e of registry.entries.values()) if (ACTOR_KINDS.has(e.kind)) return true;
  return false;
}
const ACTOR_KINDS: ReadonlySet<string> = new Set(["process.actor", "process.service", "process.supervisor"]);

function hostFor(e: ProcessHostEntry, tree: ActorTree, table: ProcessTable): ProcessHost {
  return new ProcessHost(e.id, tree, {
    newPid: (h) => table.newPid(h),
    ...(e.maxProcesses !== undefined ? { maxProcesses: e.maxProcesses } : {}),
    limits: e.limits,
    preempt: e.preempt ?? true,
  });
}

function suggest(id: string, registry: Registry): string {
  const name = id.includes(":") ? id.slice(id.indexOf(":") + 1) : id;
  const near = [...registry.entries.keys()].filter((k) => k.endsWith(`:${name}`));
  return near.length > 0 ? ` (did you mean ${near.join(" or ")}?)` : "";
}

export { isExitError };
export type { ExitResult, WasmEntry };
