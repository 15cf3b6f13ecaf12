// A process's view of the world, built from its entry at spawn: argv, the
// environment it is granted (nothing of the host's), its mounts and stdio.

import type { Writable } from "node:stream";
import type { Registry, WasmEntry } from "../registry/types.ts";
import type { ProcessIO } from "../wasm/program.ts";
import type { Budget } from "./budget.ts";
import type { InstancePool } from "./instance-pool.ts";
import type { MemoryPool } from "./memory-pool.ts";
import { ProcessError } from "./exit.ts";
import type { GuestProcess } from "../guest/process-host.ts";

/**
 * Where guest output goes. A callback that returns a Promise is saying "full": the
 * guest's write waits until it settles (only that process waits), and the callback is
 * not called again for that stream meanwhile. A component's non-blocking writes
 * (wasi:io `check-write`, `write`) go on without waiting up to 64 KiB per stream.
 */
export interface Stdio {
  stdout: (pid: string, chunk: Uint8Array) => void | Promise<void>;
  stderr: (pid: string, chunk: Uint8Array) => void | Promise<void>;
  /** Reads the next chunk of stdin for `pid`; null at end of input. Absent: stdin is empty. */
  stdin?: (pid: string) => Promise<Uint8Array | null>;
}

// One wait per stream, shared by every process writing to it (no listener per process).
const waitsForRoom = new WeakMap<Writable, Promise<void>>();

/** Settles once `stream` has room again ('drain', or 'close' if it ends first); undefined when it has room now. */
export function roomIn(stream: Writable): Promise<void> | undefined {
  if (!stream.writableNeedDrain || stream.destroyed) return undefined;
  let wait = waitsForRoom.get(stream);
  if (!wait) {
    wait = new Promise((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        waitsForRoom.delete(stream);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
    });
    waitsForRoom.set(stream, wait);
  }
  return wait;
}

/** A Stdio callback writing to a Node stream (the terminal, a pipe): the guest waits while the stream's buffer is full. */
export function streamOutput(stream: Writable): (pid: string, chunk: Uint8Array) => Promise<void> | undefined {
  return (_pid, chunk) => {
    stream.write(chunk);
    return roomIn(stream);
  };
}

/** What every process of a runtime shares in its I/O. */
export interface IOContext {
  env: Record<string, string | undefined>;
  registry: Registry;
  stdio: Stdio;
}

/**
 * The one I/O is built for (a WasmProcess is one itself): its methods are called on it,
 * so a spawn makes no closures to reach them.
 */
export interface IOOwner {
  readonly pid: string;
  readonly budget: Budget;
  /** Read only when a host wait needs it: the process makes its AbortController then. */
  readonly signal?: AbortSignal | undefined;
  readonly memoryPool?: MemoryPool | undefined;
  readonly instancePool?: InstancePool | undefined;
  suspend(): void;
  resume(): void;
  /** The guest yields the thread (preemption); absent: nothing to show. */
  preempt?(): void;
}

/** Values as guest argv: strings as they are, everything else as JSON. */
function argText(a: unknown): string {
  return typeof a === "string" ? a : typeof a === "bigint" ? a.toString() : JSON.stringify(a) ?? String(a);
}

export function resolveEnv(entry: WasmEntry, registry: Registry, hostEnv: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const b of entry.wasi.env) {
    const v = registry.entries.get(b.id);
    if (!v || v.kind !== "env.variable") throw new ProcessError("spawn", `${entry.id}: wasi.env ${b.name} refers to ${b.id}, which is not an env.variable entry`);
    const value = (v.variable !== undefined ? hostEnv[v.variable] : undefined) ?? v.default;
    if (value === undefined) {
      if (b.required) {
        const how = v.variable ? `set the OS variable ${v.variable} or give ${b.id} a default` : `give ${b.id} a default`;
        throw new ProcessError("spawn", `${entry.id}: required environment variable ${b.name} (from ${b.id}) has no value; ${how}`);
      }
      continue;
    }
    env[b.name] = value;
  }
  return env;
}

/**
 * ProcessIO as a class: one fixed shape (an object literal with a getter and late
 * properties became a ~1 KB dictionary per process), its hooks on the prototype, and
 * the output callbacks made only for a guest that writes.
 */
class OwnedIO implements ProcessIO {
  readonly entry: WasmEntry;
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly mounts: { guest: string; host: string; readOnly: boolean }[];
  readonly cwd: string | undefined;
  readonly budget: Budget;
  readonly memoryPool: MemoryPool | undefined;
  readonly instancePool: InstancePool | undefined;
  process: GuestProcess | undefined;
  readonly #owner: IOOwner;
  readonly #stdio: Stdio;
  #stdout: ((chunk: Uint8Array) => void | Promise<void>) | undefined;
  #stderr: ((chunk: Uint8Array) => void | Promise<void>) | undefined;
  #stdin: (() => Promise<Uint8Array | null>) | undefined;

  constructor(entry: WasmEntry, argv: string[], env: Record<string, string>, mounts: OwnedIO["mounts"], stdio: Stdio, owner: IOOwner) {
    this.entry = entry;
    this.argv = argv;
    this.env = env;
    this.mounts = mounts;
    this.cwd = entry.wasi.cwd;
    this.budget = owner.budget;
    this.memoryPool = owner.memoryPool;
    this.instancePool = owner.instancePool;
    this.process = undefined;
    this.#owner = owner;
    this.#stdio = stdio;
  }

  // read lazily: the process makes its AbortController only when someone asks
  get signal(): AbortSignal | undefined {
    return this.#owner.signal;
  }

  get stdout(): (chunk: Uint8Array) => void | Promise<void> {
    const { pid } = this.#owner;
    const stdio = this.#stdio;
    return (this.#stdout ??= (chunk) => stdio.stdout(pid, chunk));
  }

  get stderr(): (chunk: Uint8Array) => void | Promise<void> {
    const { pid } = this.#owner;
    const stdio = this.#stdio;
    return (this.#stderr ??= (chunk) => stdio.stderr(pid, chunk));
  }

  get stdin(): (() => Promise<Uint8Array | null>) | undefined {
    const read = this.#stdio.stdin;
    if (!read) return undefined;
    const { pid } = this.#owner;
    return (this.#stdin ??= () => read(pid));
  }

  onSuspend(): void {
    this.#owner.suspend();
  }

  onResume(): void {
    this.#owner.resume();
  }

  onPreempt(): void {
    this.#owner.preempt?.();
  }
}

export function buildProcessIO(entry: WasmEntry, args: unknown[], ctx: IOContext, owner: IOOwner): ProcessIO {
  const mounts = entry.wasi.mounts.map((m) => {
    const fs = ctx.registry.entries.get(m.fs);
    if (!fs || fs.kind !== "fs.directory") throw new ProcessError("spawn", `${entry.id}: mount ${m.guest} refers to ${m.fs}, which is not an fs.directory`);
    return { guest: m.guest, host: fs.directory, readOnly: m.readOnly };
  });
  const argv = [entry.name, ...(entry.wasi.args ?? args.map(argText))];
  return new OwnedIO(entry, argv, resolveEnv(entry, ctx.registry, ctx.env), mounts, ctx.stdio, owner);
}
