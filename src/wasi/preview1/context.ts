// What every preview1 function group shares: the process's I/O, guest memory,
// the descriptor table and stdin's buffer, plus the rights checks.

import type { ProcessIO } from "../../wasm/program.ts";
import { inSandbox, type SandboxDir } from "../sandbox/paths.ts";
import { Errno, fail, WasiError } from "./errno.ts";
import type { Entry, FdTable } from "./fdtable.ts";
import type { GuestMemory } from "./memory.ts";
import { hasAll, MUTATING_RIGHTS } from "./rights.ts";
import type { Preview1Shared } from "./shared.ts";
import type { OutputQueue } from "../output-queue.ts";
import type { StdinReader } from "./stdio.ts";

export interface Ctx {
  io: ProcessIO;
  mem: GuestMemory;
  fds: FdTable;
  stdin: StdinReader;
  /** The runtime's: file times and the wall clock's anchor. */
  shared: Preview1Shared;
  /** Guest stdout and stderr, in front of the process's sinks. */
  output: { stdout: OutputQueue; stderr: OutputQueue };
}

/** A host function as wasm calls it: i32 → number, i64 → bigint; returns an errno. */
export type HostFn = (...args: never[]) => number | Promise<number>;

/** Functions of one interface group; `suspending` ones may wait on the host (JSPI). */
export interface FnGroup {
  sync?: Record<string, HostFn>;
  suspending?: Record<string, HostFn>;
}

/** Fails unless the descriptor holds every right in `rights`; a read-only mount says EROFS. */
export function need(entry: Entry, rights: bigint): void {
  if (hasAll(entry.rightsBase, rights)) return;
  const missing = rights & ~entry.rightsBase;
  if (entry.kind === "file" || entry.kind === "dir") {
    if (entry.mount.readOnly && (missing & MUTATING_RIGHTS) !== 0n) fail(Errno.ROFS);
  }
  fail(Errno.NOTCAPABLE);
}

/** Fails with EROFS for anything beneath a read-only mount: checked before any disk access. */
export function writable(entry: Entry): void {
  if ((entry.kind === "file" || entry.kind === "dir") && entry.mount.readOnly) fail(Errno.ROFS);
}

/** Settles with `p`, or fails with EINTR as soon as the process is aborted. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new WasiError(Errno.INTR));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new WasiError(Errno.INTR));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Runs a path operation holding its mounts' folder lock (see ../sandbox/lock.ts). */
export function sandboxed<T>(ctx: Ctx, dirs: readonly SandboxDir[], op: () => Promise<T>): Promise<T> {
  return inSandbox(dirs, ctx.io.signal, op);
}
