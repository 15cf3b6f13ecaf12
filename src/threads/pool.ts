// The worker threads of one process host (section 8): M:N, many processes per
// worker, each placed on the least-loaded one. The main thread keeps the table
// (pids, monitors, links), loads and checks every program once, and posts it
// compiled. A worker that dies takes only its processes, each ending once
// `killed`; the pool starts a replacement.

import type { ActorParent } from "../process/actor-tree.ts";
import { describeReason, type ExitResult } from "../process/exit.ts";
import type { ProcessHost } from "../process/host.ts";
import { instrumentationOf, spawnError, startRefusal } from "../process/wasm-process.ts";
import type { WasmEntry } from "../registry/types.ts";
import type { Program } from "../wasm/program.ts";
import { describeProgram } from "./programs.ts";
import { RemoteProcess } from "./remote-process.ts";
import { WorkerThread, type PoolContext, type ThreadOwner } from "./worker-thread.ts";

export type { PoolContext } from "./worker-thread.ts";

export class WorkerPool implements ThreadOwner {
  readonly host: ProcessHost;
  readonly size: number;
  readonly ctx: PoolContext;
  readonly #threads: WorkerThread[] = [];
  #closing = false;
  #inspect = false;
  /** Workers lost one after another soon after they started: replacements wait longer each time. */
  #earlyLosses = 0;
  #replacing: ReturnType<typeof setTimeout> | undefined;

  constructor(host: ProcessHost, size: number, ctx: PoolContext) {
    this.host = host;
    this.size = size;
    this.ctx = ctx;
  }

  /** Its live workers (started when the runtime opens, or at the first spawn). */
  get threads(): readonly { thread: number; load: number; terminate(): Promise<number> }[] {
    return this.#threads;
  }

  #start(): WorkerThread {
    const thread = new WorkerThread(this, this.ctx.nextThread(), {
      thread: 0,
      registry: this.ctx.registry,
      env: { ...this.ctx.env },
      host: { id: this.host.id, limits: this.host.limits, preempt: this.host.preempt },
      hasStdin: this.ctx.stdio.stdin !== undefined,
    });
    if (this.#inspect || this.ctx.inspected()) thread.post({ t: "inspect", on: true });
    this.#threads.push(thread);
    return thread;
  }

  /** Starts its workers, and settles once each has loaded (or stopped trying). */
  async startThreads(): Promise<void> {
    while (this.#threads.length < this.size) this.#start();
    await Promise.all(this.#threads.map((t) => t.ready));
  }

  /** The least-loaded worker (all of them are started at the first spawn, if they were not at open). */
  #place(): WorkerThread {
    while (this.#threads.length < this.size) this.#start();
    let best = this.#threads[0]!;
    for (const t of this.#threads) if (t.load < best.load) best = t;
    return best;
  }

  /** A process of `entry` on one of the workers; `start` posts it there once its program is loaded. */
  spawn(entry: WasmEntry, id: string, kind: "wasm" | "lua", pid: string, parent: ActorParent): RemoteProcess {
    const worker = this.#place();
    const proc = new RemoteProcess({
      pid,
      entry: id,
      host: this.host.id,
      kind,
      worker,
      parent,
      end: (p, result) => this.#ended(worker, p, result),
    });
    worker.add(proc);
    if (this.ctx.inspected()) proc.inspectNow();
    return proc;
  }

  start(proc: RemoteProcess, entry: WasmEntry, args: unknown[]): void {
    const refused = startRefusal(entry, this.host);
    if (refused) {
      proc.end({ error: refused });
      return;
    }
    const variant = instrumentationOf(this.host);
    const program = this.ctx.loader.peek(entry, variant);
    if (program) this.#post(proc, entry, variant, program, args);
    else {
      this.ctx.loader.load(entry, variant).then(
        (p) => this.#post(proc, entry, variant, p, args),
        (err: unknown) => proc.end({ error: spawnError(err) }),
      );
    }
  }

  #post(proc: RemoteProcess, entry: WasmEntry, variant: string, program: Program, args: unknown[]): void {
    if (proc.ended) return;
    const worker = proc.worker as WorkerThread;
    const key = `${entry.id}\0${variant}`;
    if (!worker.programs.has(key)) {
      let described;
      try {
        described = describeProgram(program);
      } catch (err) {
        proc.end({ error: spawnError(err) });
        return;
      }
      worker.post({ t: "program", key, program: described });
      worker.programs.add(key);
    }
    worker.post({ t: "spawn", pid: proc.pid, entry: proc.entry!, kind: proc.kind, program: key, args });
    proc.markStarted();
  }

  #ended(worker: WorkerThread, pid: string, result: ExitResult): void {
    worker.remove(pid);
    this.host.release();
    this.ctx.table.exit(pid, result);
  }

  /** Every worker forwards each machine transition from now on (an observer attached). */
  inspect(): void {
    this.#inspect = true;
    for (const t of this.#threads) {
      t.post({ t: "inspect", on: true });
      for (const proc of t.procs.values()) proc.inspectNow();
    }
  }

  /** A worker died: its processes end once, `killed`; a replacement starts unless the runtime is closing. */
  lost(worker: WorkerThread, reason: unknown): void {
    const at = this.#threads.indexOf(worker);
    if (at >= 0) this.#threads.splice(at, 1);
    worker.releaseLocks();
    const message = `worker thread ${worker.thread} of host ${this.host.id} was lost (${describeReason(reason)}); the processes on it ended`;
    for (const proc of [...worker.procs.values()]) proc.end({ error: { kind: "killed", message } });
    if (this.#closing) return;
    // a worker that cannot even start (it dies at once) is not replaced in a tight loop
    this.#earlyLosses = Date.now() - worker.startedAt < 2000 ? this.#earlyLosses + 1 : 0;
    if (this.#earlyLosses === 0) {
      if (this.#threads.length < this.size) this.#start();
      return;
    }
    clearTimeout(this.#replacing);
    this.#replacing = setTimeout(() => {
      if (!this.#closing && this.#threads.length > 0 && this.#threads.length < this.size) this.#start();
    }, Math.min(100 * 2 ** this.#earlyLosses, 5000));
    this.#replacing.unref();
  }

  /**
   * After the runtime has ended every process: the EXITs still on their way back
   * from the workers are awaited (up to `graceMs`), then the workers stop, and this
   * waits until they have. A worker that does not answer in time is terminated: its
   * processes end `killed` then, once each, as with any lost worker.
   */
  async close(graceMs = 2000): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#replacing);
    const threads = [...this.#threads];
    await Promise.all(threads.map(async (t) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([t.drained(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      await t.terminate();
      await t.exited;
    }));
  }
}
