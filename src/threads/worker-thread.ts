// One worker thread as the main thread drives it: the processes placed on it, the
// programs already posted to it, and what the main thread answers when it asks
// (sends to other threads, spawns, links, output, folder locks). Its loss is its
// pool's to handle.

import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { ProcessMachineEvent } from "../../machines/process.ts";
import type { SpawnOptions } from "../process/api.ts";
import type { MailboxEvent, ProcessMessageEvent } from "../process/events.ts";
import { MailboxFullError, type ExitError } from "../process/exit.ts";
import type { Stdio } from "../process/io.ts";
import type { ProcessTable } from "../process/table.ts";
import type { Registry } from "../registry/types.ts";
import { folderLocks } from "../wasi/sandbox/lock.ts";
import type { ProgramLoader } from "../wasm/loader.ts";
import { Channel } from "./channel.ts";
import { fromPlainWire, plainEvent, toWireError, type SendAnswer, type ToMain, type ToWorker } from "./protocol.ts";
import { RemoteProcess, type WorkerLink } from "./remote-process.ts";
import type { WorkerInit } from "./worker.ts";

/** What the pools of a runtime share. */
export interface PoolContext {
  readonly table: ProcessTable;
  readonly loader: ProgramLoader;
  readonly registry: Registry;
  readonly env: Record<string, string | undefined>;
  readonly stdio: Stdio;
  /** Spawns for a guest on a worker (placement decided again here). */
  spawn(id: string, host: string, args: unknown[], opts: SpawnOptions): string | Promise<string>;
  /** The next thread number of the runtime (workers are numbered 1, 2, … across it). */
  nextThread(): number;
  /** Is the runtime inspected now? A new worker then forwards every transition. */
  inspected(): boolean;
}

const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url);

type Ack = { outcome: "queued" | "full" | "closed"; capacity: number };

/** What a worker thread needs of its pool. */
export interface ThreadOwner {
  readonly ctx: PoolContext;
  /** The thread stopped (crashed, ran out of memory, terminated). */
  lost(thread: WorkerThread, reason: unknown): void;
}

/** One worker thread and the processes on it. */
export class WorkerThread implements WorkerLink {
  readonly thread: number;
  readonly procs = new Map<string, RemoteProcess>();
  /** Programs already posted to it, by loader key. */
  readonly programs = new Set<string>();
  readonly #worker: Worker;
  readonly #channel: Channel<ToWorker>;
  readonly #pool: ThreadOwner;
  /** Folder locks it holds on the main thread, by lock id. */
  readonly #locks = new Map<number, () => void>();
  #nextLock = 1;
  readonly #drained: (() => void)[] = [];
  #referenced = false;
  #lost = false;
  #error: unknown;
  readonly exited: Promise<void>;
  /** Settles once the worker has loaded and takes spawns, or has stopped before that. */
  readonly ready: Promise<void>;
  #readied!: () => void;
  readonly startedAt = Date.now();

  constructor(pool: ThreadOwner, thread: number, init: WorkerInit) {
    this.#pool = pool;
    this.thread = thread;
    this.#worker = new Worker(WORKER_URL, { workerData: { ...init, thread }, name: `wippy worker ${thread} (${init.host.id})` });
    this.#worker.unref(); // an idle worker keeps nothing alive
    this.#channel = new Channel<ToWorker>(this.#worker);
    this.#worker.on("message", (batch: ToMain[]) => {
      for (const msg of batch) this.#handle(msg);
    });
    this.#worker.on("error", (err) => (this.#error = err));
    this.ready = new Promise((resolve) => (this.#readied = resolve));
    this.exited = new Promise((resolve) => {
      this.#worker.once("exit", (code) => {
        this.#lost = true;
        this.#channel.close(new Error(`worker ${thread} has stopped`));
        resolve();
        this.#readied();
        this.#pool.lost(this, this.#error ?? `exit code ${code}`);
      });
    });
  }

  get load(): number {
    return this.procs.size;
  }

  get alive(): boolean {
    return !this.#lost;
  }

  post(msg: ToWorker): void {
    this.#channel.post(msg);
  }

  add(proc: RemoteProcess): void {
    this.procs.set(proc.pid, proc);
    this.#reference();
  }

  remove(pid: string): void {
    this.procs.delete(pid);
    this.#reference();
    if (this.procs.size === 0) for (const f of this.#drained.splice(0)) f();
  }

  /** Settles once no process is left on it (its EXITs have come back). */
  drained(): Promise<void> {
    if (this.procs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Busy workers keep the Node process alive, idle ones do not. */
  #reference(): void {
    const busy = this.procs.size > 0;
    if (busy === this.#referenced || this.#lost) return;
    this.#referenced = busy;
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }

  deliver(pid: string, event: MailboxEvent): void {
    this.#channel.post({ t: "deliver", pid, event: plainEvent(event) });
  }

  async forward(pid: string, event: ProcessMessageEvent): Promise<boolean> {
    let ack: Ack;
    try {
      ack = await this.#channel.request<Ack>((seq) => ({ t: "deliver", pid, event: plainEvent(event), seq }));
    } catch {
      return false; // the worker was lost with the process on it
    }
    if (ack.outcome === "full") throw new MailboxFullError(pid, ack.capacity);
    return ack.outcome === "queued";
  }

  kill(pid: string, error: ExitError): void {
    this.#channel.post({ t: "kill", pid, error });
  }

  cancelled(pid: string, from: string, reason: unknown): void {
    this.#channel.post({ t: "cancelled", pid, from, reason });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  /** Folder locks it held: given back (it died holding them). */
  releaseLocks(): void {
    for (const release of this.#locks.values()) release();
    this.#locks.clear();
  }

  /** Workers this one has a direct line to. */
  readonly #peers = new Set<number>();

  /** A direct line between this worker and `other` (once): each gets its end, ahead of anything posted after. */
  #introduce(other: WorkerThread): void {
    if (this.#peers.has(other.thread)) return;
    const { port1, port2 } = new MessageChannel();
    this.#givePort(other.thread, port1);
    other.#givePort(this.thread, port2);
    this.#peers.add(other.thread);
    other.#peers.add(this.thread);
  }

  #givePort(thread: number, port: MessagePort): void {
    this.#channel.flush(); // what was posted before goes first
    this.#worker.postMessage([{ t: "peer", thread, port } satisfies ToWorker], [port]);
  }

  #reply(id: number, answer: unknown | Promise<unknown>): void {
    const ok = (value: unknown) => this.#channel.post({ t: "reply", id, value });
    const fail = (err: unknown) => this.#channel.post({ t: "reply", id, error: toWireError(err) });
    if (answer instanceof Promise) answer.then(ok, fail);
    else ok(answer);
  }

  #answer(id: number, fn: () => unknown): void {
    let answer: unknown;
    try {
      answer = fn();
    } catch (err) {
      this.#channel.post({ t: "reply", id, error: toWireError(err) });
      return;
    }
    this.#reply(id, answer);
  }

  #handle(msg: ToMain): void {
    const ctx = this.#pool.ctx;
    switch (msg.t) {
      case "ready":
        return this.#readied();
      case "ack":
        return this.#channel.settle(msg.seq, undefined, msg);
      case "exit":
        return this.procs.get(msg.pid)?.end(msg.result);
      case "state":
        return this.procs.get(msg.pid)?.transitioned(msg.state, undefined, msg.memory);
      case "transition":
        return this.procs.get(msg.pid)?.transitioned(undefined, msg.event as ProcessMachineEvent, msg.memory);
      case "send": {
        // a target on another worker: the two workers get a direct line, and the sender learns where it is
        const target = ctx.table.get(msg.to);
        const there = target instanceof RemoteProcess && target.worker instanceof WorkerThread && target.worker !== this && target.worker.alive ? target.worker : undefined;
        if (there) this.#introduce(there);
        return this.#answer(msg.id, () => {
          const sent = ctx.table.send(msg.from, msg.to, msg.topic, fromPlainWire(msg.payload));
          const answer = (s: boolean): SendAnswer => (there ? { sent: s, at: there.thread } : { sent: s });
          return typeof sent === "boolean" ? answer(sent) : sent.then(answer);
        });
      }
      case "spawn":
        return this.#answer(msg.id, () => ctx.spawn(msg.entry, msg.host, msg.args, msg.opts));
      case "link":
        return this.#answer(msg.id, () => ctx.table.link(msg.a, msg.b));
      case "op":
        ctx.table[msg.op](msg.a, msg.b);
        return;
      case "cancel":
        try {
          ctx.table.cancel(msg.from, msg.pid, msg.reason);
        } catch {
          // nothing to refuse: the guest gave no timeout
        }
        return;
      case "trap-links":
        return ctx.table.setTrapLinks(msg.pid, msg.trap);
      case "out":
        return this.#answer(msg.id, () => ctx.stdio[msg.stream](msg.pid, msg.chunk));
      case "stdin":
        return this.#answer(msg.id, () => ctx.stdio.stdin?.(msg.pid) ?? null);
      case "lock": {
        const lock = this.#nextLock++;
        folderLocks
          .run(msg.folders, undefined, () => new Promise<void>((release) => {
            if (this.#lost) return release();
            this.#locks.set(lock, release);
            this.#channel.post({ t: "reply", id: msg.id, value: lock });
          }))
          .catch(() => {});
        return;
      }
      case "unlock":
        this.#locks.get(msg.lock)?.();
        this.#locks.delete(msg.lock);
        return;
    }
  }
}

