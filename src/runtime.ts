// The runtime: a loaded registry, its process hosts, the process table, and
// the API of SPEC section 4.

import type { InspectionEvent, Observer } from "xstate";
import { loadRegistry, type LoadOptions } from "./registry/index.ts";
import type { Entry, ProcessHostEntry, Registry, WasmEntry } from "./registry/types.ts";
import { ProcessError, type ExitResult } from "./process/exit.ts";
import { ProcessHandle, type Spawner } from "./process/handle.ts";
import { ProcessHost } from "./process/host.ts";
import { ProcessTable, type ProcessInfo } from "./process/table.ts";
import { WasmProcess } from "./process/wasm-process.ts";
import { ProgramLoader, type LoaderStats } from "./wasm/loader.ts";
import type { ProcessIO } from "./wasm/program.ts";
import { componentImports } from "./wasi/component-host.ts";
import { coreImports, preview1Group } from "./wasi/core-host.ts";
import { Budget } from "./process/budget.ts";
import { buildProcessIO, streamOutput, type Stdio } from "./process/io.ts";
import { Supervision, SupervisorRef, type SupervisionEvent } from "./supervision/index.ts";
import type { SupervisorInput } from "../supervisors/spec.ts";

export interface RuntimeOptions extends LoadOptions {
  /** An already loaded registry (skips reading YAML). */
  registry?: Registry;
  /** Where transpiled components are cached (default: $WIPPY_CACHE_DIR or ~/.cache/wippy). */
  cacheDir?: string;
  /** Guest stdio; default: guest output goes to this Node process's stdout/stderr, stdin is empty. */
  stdio?: Partial<Stdio>;
  /** Receives XState inspection events of every process actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Start `auto_start` services and supervisors (default true). */
  autoStart?: boolean;
  /** Receives every supervision event (child starts, restarts, exits), from the auto_start trees on. */
  onSupervisorEvent?: (event: SupervisionEvent) => void;
  /** Called when loading a binary is taking long (a first transpile and instrumentation), so a CLI can say why it waits. */
  onSlowLoad?: (entryId: string, path: string) => void;
}

const DEFAULT_CANCEL_TIMEOUT_MS = 5000;
const RUNTIME_HOST = "runtime";

export class Runtime implements Spawner {
  readonly registry: Registry;
  readonly table = new ProcessTable();
  readonly hosts = new Map<string, ProcessHost>();
  /** The calling program's own mailbox, as a process. */
  readonly process: ProcessHandle;
  /** The supervision trees (see startSupervisor / supervisor). */
  readonly supervision: Supervision;
  readonly #loader: ProgramLoader;
  readonly #stdio: Stdio;
  readonly #inspect: RuntimeOptions["inspect"];
  readonly #env: Record<string, string | undefined>;
  #handles = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(registry: Registry, opts: RuntimeOptions) {
    this.registry = registry;
    this.#env = opts.env ?? process.env;
    this.#inspect = opts.inspect;
    this.#stdio = {
      stdout: opts.stdio?.stdout ?? streamOutput(process.stdout),
      stderr: opts.stdio?.stderr ?? streamOutput(process.stderr),
      ...(opts.stdio?.stdin ? { stdin: opts.stdio.stdin } : {}),
    };
    this.#loader = new ProgramLoader(registry, {
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      coreImports,
      componentImports,
      capabilities: { preview1Group },
      ...(opts.onSlowLoad ? { onSlowLoad: opts.onSlowLoad } : {}),
    });
    for (const e of registry.entries.values()) {
      if (e.kind === "process.host") this.hosts.set(e.id, hostFor(e, opts.inspect));
    }
    this.hosts.set(RUNTIME_HOST, new ProcessHost(RUNTIME_HOST));
    this.process = this.newProcess();
    this.supervision = new Supervision(this, opts.inspect ? { inspect: opts.inspect } : {});
    if (opts.onSupervisorEvent) this.supervision.on(opts.onSupervisorEvent);
  }

  /** Loads the registry and starts what is marked `auto_start`. */
  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const registry = opts.registry ?? (await loadRegistry(opts));
    const runtime = new Runtime(registry, opts);
    if (opts.autoStart !== false) runtime.supervision.startAutoStart();
    return runtime;
  }

  /** Starts a supervision tree built in code; children may also be registry service/supervisor IDs. */
  startSupervisor(input: SupervisorInput): SupervisorRef {
    if (this.#closing) throw new ProcessError("spawn", "the runtime is closed");
    return new SupervisorRef(this.supervision, this.supervision.startFromInput(input).id);
  }

  /** A started supervisor (top-level or nested) by ID: `children()`, `stop()`, `pid`. */
  supervisor(id: string): SupervisorRef {
    return this.supervision.ref(id);
  }

  get loaderStats(): LoaderStats {
    return this.#loader.stats;
  }

  /** A fresh host-side process (mailbox) for TypeScript code. */
  newProcess(): ProcessHandle {
    return new ProcessHandle(this, RUNTIME_HOST, `{${RUNTIME_HOST}|${++this.#handles}}`);
  }

  entry(id: string): Entry | undefined {
    return this.registry.entries.get(id);
  }

  processes(): ProcessInfo[] {
    return this.table.info();
  }

  spawn(id: string, hostId: string, args: unknown[], opts: { monitor?: string; link?: string } = {}): string {
    if (this.#closed) throw new ProcessError("spawn", "the runtime is closed");
    const entry = this.registry.entries.get(id);
    if (!entry) throw new ProcessError("spawn", `no entry ${id} in the registry${suggest(id, this.registry)}`);
    if (entry.kind !== "process.wasm") {
      throw new ProcessError("spawn", `${id} is a ${entry.kind}, not a process.wasm entry${entry.kind === "function.wasm" ? "; use runtime.call for functions" : ""}`);
    }
    const host = this.hosts.get(hostId);
    if (!host || hostId === RUNTIME_HOST) {
      throw new ProcessError("spawn", `no process.host ${hostId} in the registry; declare one (kind: process.host) or use an existing host`);
    }
    const pid = host.admit();
    const proc = new WasmProcess(
      { table: this.table, loader: this.#loader, makeIO: (p, a) => this.#makeIO(p, a), ...(this.#inspect ? { inspect: this.#inspect } : {}) },
      entry,
      host,
      pid,
    );
    this.table.add(proc);
    if (opts.monitor) proc.monitors.add(opts.monitor);
    if (opts.link) this.table.link(opts.link, pid);
    proc.start(args);
    return pid;
  }

  cancel(from: string, pid: string, reason: unknown, timeoutMs = DEFAULT_CANCEL_TIMEOUT_MS): void {
    const rec = this.table.get(pid);
    if (!rec) return;
    if (rec instanceof WasmProcess) {
      rec.cancel(from, reason, timeoutMs);
      return;
    }
    rec.mailbox.deliver({ type: "CANCEL", from, reason });
    const timer = setTimeout(() => rec.kill({ kind: "killed", message: `did not stop within ${timeoutMs} ms of being cancelled` }), timeoutMs);
    timer.unref();
  }

  /** Calls a `function.wasm` entry: instantiate, call, free; no process. */
  async call(id: string, ...args: unknown[]): Promise<unknown> {
    const entry = this.registry.entries.get(id);
    if (!entry || entry.kind !== "function.wasm") {
      throw new ProcessError("spawn", entry ? `${id} is a ${entry.kind}, not a function.wasm entry` : `no entry ${id} in the registry${suggest(id, this.registry)}`);
    }
    const program = await this.#loader.load(entry);
    const budget = new Budget(entry.limits);
    const io = buildProcessIO(entry, args, { pid: id, env: this.#env, registry: this.registry, stdio: this.#stdio, suspend() {}, resume() {}, budget });
    const instance = await program.instantiate(io);
    budget.start();
    try {
      return await instance.call(args);
    } finally {
      instance.dispose?.();
    }
  }

  #makeIO(proc: WasmProcess, args: unknown[]): ProcessIO {
    return buildProcessIO(proc.wasmEntry, args, {
      pid: proc.pid,
      env: this.#env,
      registry: this.registry,
      stdio: this.#stdio,
      signal: () => proc.signal,
      suspend: () => proc.suspend(),
      resume: () => proc.resume(),
      budget: proc.budget,
      preempt: () => proc.preempt(),
      memoryPool: proc.memoryPool,
    });
  }

  /** Stops the supervision trees in order, then ends every other process (CANCEL, then kill after `timeoutMs`) and waits for their EXITs. */
  close(timeoutMs = DEFAULT_CANCEL_TIMEOUT_MS): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    // Supervision trees first, latest started first, each child within its stop_timeout.
    await this.supervision.stopAll("runtime closing");
    this.#closed = true;
    const pending: Promise<void>[] = [];
    for (const rec of [...this.table.all()]) {
      if (!(rec instanceof WasmProcess)) continue;
      pending.push(new Promise<void>((resolve) => {
        const off = this.table.onExit((pid) => {
          if (pid === rec.pid) {
            off();
            resolve();
          }
        });
      }));
      rec.cancel(this.process.pid, "runtime closing", timeoutMs);
    }
    await Promise.all(pending);
    for (const rec of [...this.table.all()]) rec.kill({ kind: "killed", message: "runtime closed" });
    for (const host of this.hosts.values()) host.close();
  }
}

function hostFor(e: ProcessHostEntry, inspect: RuntimeOptions["inspect"]): ProcessHost {
  return new ProcessHost(e.id, {
    ...(e.maxProcesses !== undefined ? { maxProcesses: e.maxProcesses } : {}),
    limits: e.limits,
    preempt: e.preempt ?? true,
    ...(inspect ? { inspect } : {}),
  });
}

function suggest(id: string, registry: Registry): string {
  const name = id.includes(":") ? id.slice(id.indexOf(":") + 1) : id;
  const near = [...registry.entries.keys()].filter((k) => k.endsWith(`:${name}`));
  return near.length > 0 ? ` (did you mean ${near.join(" or ")}?)` : "";
}

export type { ExitResult, WasmEntry };
