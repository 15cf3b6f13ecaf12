// Our WASI preview1 host (`wasi_snapshot_preview1`) for core modules.
//
// Every function that may wait on the host is a JSPI `WebAssembly.Suspending`
// import: only the calling process waits, the event loop keeps running. No
// function throws into the guest except WasiExit (and the process's own
// onResume, which unwinds a guest whose process has ended); every other
// failure becomes an errno.

import { suspending, type ProcessIO, type WrapWaiting } from "../../wasm/program.ts";
import { argsEnvFunctions } from "./args-env.ts";
import { clockFunctions } from "./clock.ts";
import type { Ctx, FnGroup, HostFn } from "./context.ts";
import { Errno, errnoOf } from "./errno.ts";
import { fdIoFunctions } from "./fd-io.ts";
import { fdFunctions } from "./fd.ts";
import { guestMounts } from "../sandbox/paths.ts";
import { FdTable } from "./fdtable.ts";
import { GuestMemory } from "./memory.ts";
import { pathFunctions } from "./path.ts";
import { pollFunctions } from "./poll.ts";
import { procFunctions, WasiExit } from "./proc.ts";
import { randomFunctions } from "./random.ts";
import { preopenRights, STDIN_RIGHTS, STDOUT_RIGHTS } from "./rights.ts";
import { Preview1Shared } from "./shared.ts";
import { sockFunctions } from "./sock.ts";
import { StdinReader } from "./stdio.ts";
import { OutputQueue } from "../output-queue.ts";

export { WasiExit, Preview1Shared };
export { Errno } from "./errno.ts";

export interface Preview1Options {
  io: ProcessIO;
  /** Granted WASI interface groups, e.g. "wasi:cli", "wasi:filesystem". */
  granted: ReadonlySet<string>;
  /** The functions the module imports: only these are bound (absent: all of them). */
  needed?: ReadonlySet<string>;
  /** What the runtime's processes share (file times, the wall clock's anchor); default: this host's own. */
  shared?: Preview1Shared;
  /** How a function that may wait is handed out (default: WebAssembly.Suspending). */
  wrapWaiting?: WrapWaiting | undefined;
}

export interface Preview1Host {
  /** The import object: { wasi_snapshot_preview1: {...} }; blocking functions are wrapped in WebAssembly.Suspending. */
  imports: WebAssembly.Imports;
  /** Must be called right after instantiation with the instance's exported memory. */
  bindMemory(memory: WebAssembly.Memory): void;
  /** Closes every open host file handle (called when the process ends, however it ends). */
  close(): Promise<void>;
}

const GROUPS: Record<string, string> = {};
const assign = (group: string, names: string): void => {
  for (const n of names.split(/\s+/).filter(Boolean)) GROUPS[n] = group;
};
// fd_* serve stdio as well as files, so they gate as wasi:cli; files are only
// reachable through preopens, which exist only when wasi:filesystem is granted.
assign(
  "wasi:cli",
  `args_get args_sizes_get environ_get environ_sizes_get proc_exit proc_raise sched_yield
   fd_advise fd_allocate fd_close fd_datasync fd_fdstat_get fd_fdstat_set_flags fd_fdstat_set_rights
   fd_filestat_get fd_filestat_set_size fd_filestat_set_times fd_pread fd_prestat_get fd_prestat_dir_name
   fd_pwrite fd_read fd_readdir fd_renumber fd_seek fd_sync fd_tell fd_write`,
);
assign("wasi:clocks", "clock_res_get clock_time_get");
assign("wasi:random", "random_get");
assign(
  "wasi:filesystem",
  `path_create_directory path_filestat_get path_filestat_set_times path_link path_open path_readlink
   path_remove_directory path_rename path_symlink path_unlink_file`,
);
assign("wasi:io", "poll_oneoff");
assign("wasi:sockets", "sock_accept sock_recv sock_send sock_shutdown");

/** Which WASI interface group a preview1 function belongs to (for capability gating at spawn). */
export function interfaceOfPreview1Function(name: string): string | undefined {
  return Object.hasOwn(GROUPS, name) ? GROUPS[name] : undefined;
}

/** Every preview1 function this host provides. */
export const PREVIEW1_FUNCTIONS: readonly string[] = Object.keys(GROUPS);

type Callable = (...args: unknown[]) => number | Promise<number>;

function toErrno(err: unknown): number {
  if (err instanceof WasiExit) throw err;
  return errnoOf(err);
}

/** A host function called with guard's rules: `this` is the function (bound to it, so a process's import is one small object, not a closure and its context). */
function guarded(this: Callable, ...args: unknown[]): number | Promise<number> {
  try {
    const r = this(...args);
    return r instanceof Promise ? r.then(undefined, toErrno) : r;
  } catch (err) {
    return toErrno(err);
  }
}

/** Turns every failure except WasiExit into an errno, sync or async. */
function guard(fn: HostFn): Callable {
  return guarded.bind(fn as unknown as Callable) as Callable;
}

/** What a process's waiting functions share: its onResume, as the wait settles with an errno or fails. */
interface Resumers {
  resumed: (errno: number) => number;
  failed: (err: unknown) => number;
}

function resumersOf(io: ProcessIO): Resumers {
  return {
    resumed: (errno) => {
      io.onResume();
      return errno;
    },
    failed: (err) => {
      io.onResume();
      return toErrno(err);
    },
  };
}

/**
 * guard, for a function that may wait: only a real host wait shows as `suspended`,
 * and onResume (which may throw to unwind an ended process) runs as the wait settles.
 * One closure per import and one Promise per wait beyond the function's own.
 */
function guardSuspending(fn: HostFn, io: ProcessIO, on: Resumers, wrap: WrapWaiting): object {
  const f = fn as unknown as Callable;
  return wrap((...args: unknown[]) => {
    let r: number | Promise<number>;
    try {
      r = f(...args);
    } catch (err) {
      return toErrno(err);
    }
    if (!(r instanceof Promise)) return r;
    io.onSuspend();
    return r.then(on.resumed, on.failed);
  });
}

const BUILDERS: ((ctx: Ctx) => FnGroup)[] = [
  argsEnvFunctions, clockFunctions, randomFunctions, fdFunctions, fdIoFunctions, pathFunctions, pollFunctions, procFunctions, sockFunctions,
];

let names: string[][] | undefined;
/** The function names of each builder, learnt once by building them on an empty context. */
function groupNames(): string[][] {
  names ??= BUILDERS.map((build) => {
    const empty = { io: { argv: [], env: {}, mounts: [] }, mem: new GuestMemory(), fds: new FdTable(), stdin: new StdinReader(undefined), shared: new Preview1Shared() } as unknown as Ctx;
    const g = build(empty);
    return [...Object.keys(g.sync ?? {}), ...Object.keys(g.suspending ?? {})];
  });
  return names;
}

// Per module (its set of needed functions), not per process: which groups to build.
const buildersOf = new WeakMap<ReadonlySet<string>, ((ctx: Ctx) => FnGroup)[]>();
function neededBuilders(needed: ReadonlySet<string> | undefined): ((ctx: Ctx) => FnGroup)[] {
  if (!needed) return BUILDERS;
  let b = buildersOf.get(needed);
  if (!b) buildersOf.set(needed, (b = BUILDERS.filter((_, i) => groupNames()[i]!.some((n) => needed.has(n)))));
  return b;
}

const denied = (): number => Errno.NOTCAPABLE;

/** The per-process state behind the functions; stdin's buffer and the output queues are made at first use. */
class Preview1Ctx implements Ctx {
  readonly io: ProcessIO;
  readonly mem = new GuestMemory();
  readonly fds = new FdTable();
  readonly shared: Preview1Shared;
  #stdin: StdinReader | undefined;
  #output: { stdout: OutputQueue; stderr: OutputQueue } | undefined;

  constructor(io: ProcessIO, shared: Preview1Shared) {
    this.io = io;
    this.shared = shared;
  }

  get stdin(): StdinReader {
    return (this.#stdin ??= new StdinReader(this.io.stdin));
  }

  get output(): { stdout: OutputQueue; stderr: OutputQueue } {
    return (this.#output ??= { stdout: new OutputQueue(this.io.stdout), stderr: new OutputQueue(this.io.stderr) });
  }
}

export function createPreview1Host(opts: Preview1Options): Preview1Host {
  const { io, granted } = opts;
  const ctx = new Preview1Ctx(io, opts.shared ?? new Preview1Shared());
  const { fds } = ctx;
  fds.set(0, { kind: "stdin", rightsBase: STDIN_RIGHTS, rightsInheriting: 0n, flags: 0 });
  fds.set(1, { kind: "stdout", rightsBase: STDOUT_RIGHTS, rightsInheriting: 0n, flags: 0 });
  fds.set(2, { kind: "stderr", rightsBase: STDOUT_RIGHTS, rightsInheriting: 0n, flags: 0 });
  if (granted.has("wasi:filesystem")) {
    for (const mount of guestMounts(io.mounts, io.cwd)) {
      const rights = preopenRights(mount.readOnly);
      fds.add({
        kind: "dir",
        rel: [],
        id: null,
        mount,
        preopen: true,
        rightsBase: rights.base,
        rightsInheriting: rights.inheriting,
        flags: 0,
      });
    }
  }

  const exports: Record<string, unknown> = {};
  const { needed } = opts;
  const allowed = (name: string): boolean => {
    const group = GROUPS[name];
    return group !== undefined && granted.has(group);
  };
  let on: Resumers | undefined;
  const wrap = opts.wrapWaiting ?? suspending;
  // only the groups holding a function the module imports are built (each is a set of closures)
  for (const build of neededBuilders(needed)) {
    const g = build(ctx);
    for (const name in g.sync) {
      if (!needed || needed.has(name)) exports[name] = allowed(name) ? guard(g.sync[name]!) : denied;
    }
    for (const name in g.suspending) {
      if (!needed || needed.has(name)) exports[name] = allowed(name) ? guardSuspending(g.suspending[name]!, io, (on ??= resumersOf(io)), wrap) : denied;
    }
  }

  return {
    imports: { wasi_snapshot_preview1: exports as WebAssembly.ModuleImports },
    bindMemory: (memory) => ctx.mem.bind(memory),
    close: () => fds.closeAll(),
  };
}
