// Our WASI preview1 host, driven by small WAT guests: commands with `_start`,
// and a "proxy" module that re-exports host functions so a test can call them
// from inside a real wasm instance (with JSPI suspension) and look at errnos.

import { parse } from "@bytecodealliance/jco";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WasmEntry } from "../src/registry/types.ts";
import { createPreview1Host, Errno, interfaceOfPreview1Function, Preview1Shared, WasiExit } from "../src/wasi/preview1/index.ts";
import { Budget } from "../src/process/budget.ts";
import type { ProcessIO } from "../src/wasm/program.ts";
import { readCoreInfo } from "../src/wasm/binary.ts";
import { CoreProgram } from "../src/wasm/core.ts";
import { createCoreImports } from "../src/wasi/core-host.ts";

const promising = (WebAssembly as unknown as { promising: (f: unknown) => (...a: unknown[]) => Promise<unknown> }).promising;

const ALL = ["wasi:cli", "wasi:io", "wasi:clocks", "wasi:filesystem", "wasi:random"];
const R = { FD_READ: 1n << 1n, FD_WRITE: 1n << 6n, PATH_OPEN: 1n << 13n } as const;
const O = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FOLLOW = 1;

interface Options {
  argv?: string[];
  env?: Record<string, string>;
  mounts?: ProcessIO["mounts"];
  granted?: string[];
  stdin?: ProcessIO["stdin"];
  /** A runtime's shared preview1 state; default: the host's own. */
  shared?: Preview1Shared;
}

async function compile(wat: string): Promise<WebAssembly.Module> {
  const bytes = (await parse(wat)) as Uint8Array<ArrayBuffer>;
  return new WebAssembly.Module(bytes);
}

/** One guest instance with captured output and a log of suspend/resume calls. */
async function instantiate(module: WebAssembly.Module, opts: Options = {}) {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const log: string[] = [];
  const io: ProcessIO = {
    entry: { method: "_start" } as unknown as WasmEntry,
    argv: opts.argv ?? ["prog"],
    budget: new Budget({}),
    onPreempt: () => {},
    env: opts.env ?? {},
    mounts: opts.mounts ?? [],
    stdout: (c) => void out.push(c.slice()),
    stderr: (c) => void err.push(c.slice()),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    onSuspend: () => void log.push("suspend"),
    onResume: () => void log.push("resume"),
  };
  const host = createPreview1Host({ io, granted: new Set(opts.granted ?? ALL), ...(opts.shared ? { shared: opts.shared } : {}) });
  const instance = new WebAssembly.Instance(module, host.imports);
  const memory = instance.exports.memory as WebAssembly.Memory;
  host.bindMemory(memory);
  const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString("utf8");
  return {
    host,
    memory,
    log,
    stdout: () => text(out),
    stderr: () => text(err),
    run: () => promising(instance.exports._start)(),
    call: (name: string, ...args: (number | bigint)[]) => promising(instance.exports[name])(...args) as Promise<number>,
  };
}

// ---- a proxy guest: every host function re-exported with its own signature ----

const SIGNATURES: Record<string, string[]> = {
  path_open: ["i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32"],
  path_unlink_file: ["i32", "i32", "i32"],
  path_create_directory: ["i32", "i32", "i32"],
  path_rename: ["i32", "i32", "i32", "i32", "i32", "i32"],
  path_symlink: ["i32", "i32", "i32", "i32", "i32"],
  path_filestat_set_times: ["i32", "i32", "i32", "i32", "i64", "i64", "i32"],
  fd_read: ["i32", "i32", "i32", "i32"],
  fd_write: ["i32", "i32", "i32", "i32"],
  fd_close: ["i32"],
  fd_prestat_get: ["i32", "i32"],
  fd_fdstat_get: ["i32", "i32"],
  fd_filestat_get: ["i32", "i32"],
  fd_filestat_set_times: ["i32", "i64", "i64", "i32"],
  random_get: ["i32", "i32"],
};

const PROXY_WAT = `(module
${Object.entries(SIGNATURES)
  .map(([n, p]) => `  (import "wasi_snapshot_preview1" "${n}" (func $${n} (param ${p.join(" ")}) (result i32)))`)
  .join("\n")}
  (memory (export "memory") 1)
${Object.entries(SIGNATURES)
  .map(([n, p]) => `  (func (export "${n}") (param ${p.join(" ")}) (result i32) ${p.map((_, i) => `(local.get ${i})`).join(" ")} (call $${n}))`)
  .join("\n")}
)`;

/** Guest memory layout used by the proxy tests. */
const PATH = 1024;
const OUT = 64;
const IOV = 128;
const BUF = 4096;

async function proxy(opts: Options) {
  const g = await instantiate(await compile(PROXY_WAT), opts);
  const bytes = () => new Uint8Array(g.memory.buffer);
  const view = () => new DataView(g.memory.buffer);
  const putPath = (s: string | Uint8Array): number => {
    const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
    bytes().set(b, PATH);
    return b.byteLength;
  };
  return {
    ...g,
    bytes,
    u32: (ptr: number) => view().getUint32(ptr, true),
    u64: (ptr: number) => view().getBigUint64(ptr, true),
    /** path_open beneath `dirfd`; resolves to [errno, fd]. */
    open: async (dirfd: number, path: string | Uint8Array, oflags = 0, rights = R.FD_READ, lookup = 0) => {
      const len = putPath(path);
      const errno = await g.call("path_open", dirfd, lookup, PATH, len, oflags, rights, 0n, 0, OUT);
      return [errno, view().getUint32(OUT, true)] as const;
    },
    pathCall: (name: string, dirfd: number, path: string) => g.call(name, dirfd, PATH, putPath(path)),
    /** Reads up to BUF-sized bytes from fd; resolves to [errno, text]. */
    read: async (fd: number) => {
      view().setUint32(IOV, BUF, true);
      view().setUint32(IOV + 4, 1024, true);
      const errno = await g.call("fd_read", fd, IOV, 1, OUT);
      const n = view().getUint32(OUT, true);
      return [errno, Buffer.from(bytes().slice(BUF, BUF + n)).toString("utf8")] as const;
    },
    write: async (fd: number, text: string) => {
      const b = new TextEncoder().encode(text);
      bytes().set(b, BUF);
      view().setUint32(IOV, BUF, true);
      view().setUint32(IOV + 4, b.byteLength, true);
      return g.call("fd_write", fd, IOV, 1, OUT);
    },
  };
}

// ---- command guests ----

const IMPORT = (name: string, params: string) =>
  `(import "wasi_snapshot_preview1" "${name}" (func $${name} (param ${params}) (result i32)))`;

const ARGS_ENV_WAT = `(module
  ${IMPORT("args_sizes_get", "i32 i32")}
  ${IMPORT("args_get", "i32 i32")}
  ${IMPORT("environ_sizes_get", "i32 i32")}
  ${IMPORT("environ_get", "i32 i32")}
  ${IMPORT("fd_write", "i32 i32 i32 i32")}
  (memory (export "memory") 1)
  (func $emit (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $args_get (i32.const 256) (i32.const 1024)))
    (call $emit (i32.const 1) (i32.const 1024) (i32.load (i32.const 20)))
    (drop (call $environ_sizes_get (i32.const 24) (i32.const 28)))
    (drop (call $environ_get (i32.const 512) (i32.const 4096)))
    (call $emit (i32.const 2) (i32.const 4096) (i32.load (i32.const 28)))
    ;; argc and environ count as two bytes on stdout
    (i32.store8 (i32.const 40) (i32.add (i32.const 48) (i32.load (i32.const 16))))
    (i32.store8 (i32.const 41) (i32.add (i32.const 48) (i32.load (i32.const 24))))
    (call $emit (i32.const 1) (i32.const 40) (i32.const 2))))`;

const EXIT_WAT = `(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $proc_exit (i32.const 42)) unreachable))`;

// One relative 100 ms sleep on the monotonic clock; traps unless exactly one clock event came back.
const SLEEP_WAT = `(module
  ${IMPORT("poll_oneoff", "i32 i32 i32 i32")}
  (memory (export "memory") 1)
  (func (export "_start")
    (i64.store (i32.const 64) (i64.const 7))
    (i32.store8 (i32.const 72) (i32.const 0))
    (i32.store (i32.const 80) (i32.const 1))
    (i64.store (i32.const 88) (i64.const 100000000))
    (i64.store (i32.const 96) (i64.const 0))
    (i32.store16 (i32.const 104) (i32.const 0))
    (if (call $poll_oneoff (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 200)) (then unreachable))
    (if (i32.ne (i32.load (i32.const 200)) (i32.const 1)) (then unreachable))
    (if (i64.ne (i64.load (i32.const 128)) (i64.const 7)) (then unreachable))))`;

let work: string;
let data: string;
let readonly: string;
let outside: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "preview1-test-"));
  data = join(work, "data");
  readonly = join(work, "ro");
  outside = join(work, "outside.txt");
  await mkdir(join(data, "sub"), { recursive: true });
  await mkdir(readonly);
  await writeFile(join(data, "hello.txt"), "hello from the host\n");
  await writeFile(join(readonly, "keep.txt"), "original\n");
  await writeFile(outside, "secret\n");
  await symlink(outside, join(data, "abs-link"));
  await symlink("../outside.txt", join(data, "rel-link"));
  await symlink("hello.txt", join(data, "ok-link"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const mounts = () => [
  { guest: "/data", host: data, readOnly: false },
  { guest: "/ro", host: readonly, readOnly: true },
];

describe("preview1 commands", () => {
  it("sees exactly the given args and env, nothing of the host's", async () => {
    process.env.PREVIEW1_TEST_LEAK = "should not be seen";
    const g = await instantiate(await compile(ARGS_ENV_WAT), {
      argv: ["prog", "one", "two words", "ünï"],
      env: { A: "1", B: "x y" },
    });
    await g.run();
    expect(g.stdout()).toBe("prog\0one\0two words\0ünï\0" + "42");
    expect(g.stderr()).toBe("A=1\0B=x y\0");
    delete process.env.PREVIEW1_TEST_LEAK;
  });

  it("captures stdout and stderr separately", async () => {
    const p = await proxy({});
    expect(await p.write(1, "to out")).toBe(Errno.SUCCESS);
    expect(await p.write(2, "to err")).toBe(Errno.SUCCESS);
    expect(p.u32(OUT)).toBe(6);
    expect(p.stdout()).toBe("to out");
    expect(p.stderr()).toBe("to err");
    // A plain stdout write is not a host wait.
    expect(p.log).toEqual([]);
  });

  it("proc_exit unwinds the guest with WasiExit and its code", async () => {
    const g = await instantiate(await compile(EXIT_WAT));
    const err = await g.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiExit);
    expect((err as WasiExit).code).toBe(42);
  });
});

describe("preview1 filesystem", () => {
  it("lists mounts as preopens and reads a file beneath one", async () => {
    const p = await proxy({ mounts: mounts() });
    expect(await p.call("fd_prestat_get", 3, OUT)).toBe(Errno.SUCCESS);
    expect(p.u32(OUT + 4)).toBe("/data".length);
    expect(await p.call("fd_prestat_get", 5, OUT)).toBe(Errno.BADF);
    const [errno, fd] = await p.open(3, "sub/../hello.txt");
    expect(errno).toBe(Errno.SUCCESS);
    expect(await p.read(fd)).toEqual([Errno.SUCCESS, "hello from the host\n"]);
    expect(await p.call("fd_close", fd)).toBe(Errno.SUCCESS);
    expect(await p.call("fd_close", fd)).toBe(Errno.BADF);
    // A symlink that stays inside is followed.
    const [e2, fd2] = await p.open(3, "ok-link", 0, R.FD_READ, FOLLOW);
    expect(e2).toBe(Errno.SUCCESS);
    expect((await p.read(fd2))[1]).toBe("hello from the host\n");
    await p.host.close();
  });

  it("refuses writes under a read-only mount inside the guest and leaves the disk alone", async () => {
    const p = await proxy({ mounts: mounts() });
    const keep = join(readonly, "keep.txt");
    const before = await stat(keep);
    expect((await p.open(4, "keep.txt", 0, R.FD_READ | R.FD_WRITE))[0]).toBe(Errno.ROFS);
    expect((await p.open(4, "new.txt", O.CREAT, R.FD_WRITE))[0]).toBe(Errno.ROFS);
    expect((await p.open(4, "keep.txt", O.TRUNC, R.FD_READ))[0]).toBe(Errno.ROFS);
    expect(await p.pathCall("path_unlink_file", 4, "keep.txt")).toBe(Errno.ROFS);
    expect(await p.pathCall("path_create_directory", 4, "dir")).toBe(Errno.ROFS);
    // Opened read-only, the fd has no write right: writing and setting times fail too.
    const [errno, fd] = await p.open(4, "keep.txt");
    expect(errno).toBe(Errno.SUCCESS);
    expect(await p.write(fd, "overwritten")).toBe(Errno.ROFS);
    expect(await p.call("fd_filestat_set_times", fd, 0n, 0n, 1 | 4)).toBe(Errno.ROFS);
    // The preopen's rights say so as well.
    expect(await p.call("fd_fdstat_get", 4, OUT)).toBe(Errno.SUCCESS);
    expect(p.u64(OUT + 16) & R.FD_WRITE).toBe(0n);
    expect(await readFile(keep, "utf8")).toBe("original\n");
    const after = await stat(keep);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    await expect(stat(join(readonly, "new.txt"))).rejects.toThrow();
    await p.host.close();
  });

  it("refuses paths that climb out of their directory", async () => {
    const p = await proxy({ mounts: mounts() });
    expect((await p.open(3, "../outside.txt"))[0]).toBe(Errno.NOTCAPABLE);
    expect((await p.open(3, "sub/../../outside.txt"))[0]).toBe(Errno.NOTCAPABLE);
    expect((await p.open(3, "/etc/passwd"))[0]).toBe(Errno.NOTCAPABLE);
    expect(await p.pathCall("path_create_directory", 3, "../escaped")).toBe(Errno.NOTCAPABLE);
    await expect(stat(join(work, "escaped"))).rejects.toThrow();
  });

  it("refuses symlinks leading out, and will not create them", async () => {
    const p = await proxy({ mounts: mounts() });
    expect((await p.open(3, "abs-link", 0, R.FD_READ, FOLLOW))[0]).toBe(Errno.NOTCAPABLE);
    expect((await p.open(3, "rel-link", 0, R.FD_READ, FOLLOW))[0]).toBe(Errno.NOTCAPABLE);
    expect((await p.open(3, "abs-link/x", 0, R.FD_READ))[0]).toBe(Errno.NOTCAPABLE);
    // Not following: the link itself cannot be opened (O_NOFOLLOW).
    expect((await p.open(3, "rel-link"))[0]).toBe(Errno.LOOP);
    const symlinkCall = async (target: string, name: string) => {
      const t = new TextEncoder().encode(target);
      p.bytes().set(t, BUF);
      const n = new TextEncoder().encode(name);
      p.bytes().set(n, PATH);
      return p.call("path_symlink", BUF, t.byteLength, 3, PATH, n.byteLength);
    };
    expect(await symlinkCall("../outside.txt", "made-link")).toBe(Errno.NOTCAPABLE);
    expect(await symlinkCall("/etc/passwd", "made-link")).toBe(Errno.NOTCAPABLE);
    expect(await symlinkCall("hello.txt", "made-link")).toBe(Errno.SUCCESS);
    expect(await p.pathCall("path_unlink_file", 3, "made-link")).toBe(Errno.SUCCESS);
  });

  it("has no preopens when wasi:filesystem is not granted", async () => {
    const p = await proxy({ mounts: mounts(), granted: ["wasi:cli"] });
    expect(await p.call("fd_prestat_get", 3, OUT)).toBe(Errno.BADF);
    expect((await p.open(3, "hello.txt"))[0]).toBe(Errno.NOTCAPABLE);
    // Other ungranted groups answer ENOTCAPABLE rather than running.
    expect(await p.call("random_get", BUF, 16)).toBe(Errno.NOTCAPABLE);
  });

  it("returns an errno for a path holding a NUL byte", async () => {
    const p = await proxy({ mounts: mounts() });
    expect((await p.open(3, new TextEncoder().encode("hello.txt\0")))[0]).toBe(Errno.ILSEQ);
    expect((await p.open(3, new Uint8Array([0xff, 0xfe])))[0]).toBe(Errno.ILSEQ);
  });

  it("keeps timestamps exact to the nanosecond", async () => {
    const p = await proxy({ mounts: mounts() });
    const [, fd] = await p.open(3, "times.txt", O.CREAT, R.FD_READ | R.FD_WRITE | (1n << 21n) | (1n << 23n));
    const mtim = 1_700_000_000_123_456_789n;
    const atim = 1_600_000_000_987_654_321n;
    expect(await p.call("fd_filestat_set_times", fd, atim, mtim, 1 | 4)).toBe(Errno.SUCCESS);
    expect(await p.call("fd_filestat_get", fd, OUT)).toBe(Errno.SUCCESS);
    expect(p.u64(OUT + 40)).toBe(atim);
    expect(p.u64(OUT + 48)).toBe(mtim);
    // Setting only mtim leaves atim exactly as it was.
    expect(await p.call("fd_filestat_set_times", fd, 0n, mtim - 100n, 4)).toBe(Errno.SUCCESS);
    expect(await p.call("fd_filestat_get", fd, OUT)).toBe(Errno.SUCCESS);
    expect(p.u64(OUT + 40)).toBe(atim);
    expect(p.u64(OUT + 48)).toBe(mtim - 100n);
    // Both a time and "now" for one field is invalid.
    expect(await p.call("fd_filestat_set_times", fd, 0n, 0n, 4 | 8)).toBe(Errno.INVAL);
    await p.host.close();
  });

  it("exact timestamps belong to a runtime: its other processes see them, another runtime's see the disk", async () => {
    const runtime = new Preview1Shared();
    const setter = await proxy({ mounts: mounts(), shared: runtime });
    const rights = R.FD_READ | R.FD_WRITE | (1n << 21n) | (1n << 23n);
    const [, fd] = await setter.open(3, "shared-times.txt", O.CREAT, rights);
    const mtim = 1_700_000_000_123_456_789n;
    expect(await setter.call("fd_filestat_set_times", fd, mtim, mtim, 1 | 4)).toBe(Errno.SUCCESS);
    const mtimOf = async (p: Awaited<ReturnType<typeof proxy>>): Promise<bigint> => {
      const [, other] = await p.open(3, "shared-times.txt", 0, rights);
      expect(await p.call("fd_filestat_get", other, OUT)).toBe(Errno.SUCCESS);
      const value = p.u64(OUT + 48);
      await p.host.close();
      return value;
    };
    expect(await mtimOf(await proxy({ mounts: mounts(), shared: runtime }))).toBe(mtim);
    const disk = (await stat(join(data, "shared-times.txt"), { bigint: true })).mtimeNs;
    expect(await mtimOf(await proxy({ mounts: mounts() }))).toBe(disk);
    await setter.host.close();
  });

  it("closes every host file handle on close()", async () => {
    const p = await proxy({ mounts: mounts() });
    const [, fd] = await p.open(3, "hello.txt");
    await p.host.close();
    expect(await p.call("fd_fdstat_get", fd, OUT)).toBe(Errno.BADF);
  });
});

describe("preview1 waits", () => {
  it("suspends only the sleeping guest: 50 sleeps of 100 ms run concurrently", async () => {
    const module = await compile(SLEEP_WAT);
    const guests = await Promise.all(Array.from({ length: 50 }, () => instantiate(module)));
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    try {
      await Promise.all(guests.map((g) => g.run()));
    } finally {
      clearInterval(interval);
    }
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1000); // 50 × 100 ms in sequence would be 5 s
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("calls onSuspend before and onResume after a host wait", async () => {
    const g = await instantiate(await compile(SLEEP_WAT));
    await g.run();
    expect(g.log).toEqual(["suspend", "resume"]);
  });

  it("reads stdin through io.stdin, waiting for data", async () => {
    const chunks = [new TextEncoder().encode("line one\n"), null];
    const p = await proxy({
      stdin: () => new Promise((resolve) => setTimeout(() => resolve(chunks.shift() ?? null), 20)),
    });
    expect(await p.read(0)).toEqual([Errno.SUCCESS, "line one\n"]);
    expect(await p.read(0)).toEqual([Errno.SUCCESS, ""]);
    expect(p.log).toEqual(["suspend", "resume", "suspend", "resume"]);
  });
});

// _initialize writes 32 blocks of 4 KiB to stdout, stopping at the first errno;
// result() = blocks written × 100 + that errno.
const INIT_WRITER_WAT = `(module
  ${IMPORT("fd_write", "i32 i32 i32 i32")}
  (memory (export "memory") 1)
  (global $written (mut i32) (i32.const 0))
  (global $errno (mut i32) (i32.const 0))
  (func (export "_initialize") (local $e i32)
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 4096))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (global.get $written) (i32.const 32)))
        (local.set $e (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (if (local.get $e) (then (global.set $errno (local.get $e)) (br $done)))
        (global.set $written (i32.add (global.get $written) (i32.const 1)))
        (br $next))))
  (func (export "result") (result i32)
    (i32.add (i32.mul (global.get $written) (i32.const 100)) (global.get $errno))))`;

describe("preview1 output backpressure", () => {
  it("_initialize writing to a slow stdout waits for it like the entry call does (it used to trap)", async () => {
    const bytes = (await parse(INIT_WRITER_WAT)) as Uint8Array<ArrayBuffer>;
    const program = new CoreProgram("init-writer", new WebAssembly.Module(bytes), readCoreInfo(bytes), createCoreImports());
    let unresolved = 0;
    let maxUnresolved = 0;
    const io: ProcessIO = {
      entry: { method: "result", imports: ["wasi:cli"] } as unknown as WasmEntry,
      argv: ["prog"],
      env: {},
      mounts: [],
      budget: new Budget({}),
      onPreempt: () => {},
      onSuspend: () => {},
      onResume: () => {},
      // a sink that takes each chunk on a later timer turn
      stdout: (chunk) => {
        unresolved += chunk.byteLength;
        maxUnresolved = Math.max(maxUnresolved, unresolved);
        return new Promise<void>((resolve) => setTimeout(() => resolve(void (unresolved -= chunk.byteLength)), 1));
      },
      stderr: () => {},
    };
    const instance = await program.instantiate(io);
    expect(await instance.call([])).toBe(32 * 100 + Errno.SUCCESS);
    expect(maxUnresolved).toBe(4096);
  });
});

describe("interfaceOfPreview1Function", () => {
  it("maps preview1 functions onto WASI interface groups", () => {
    expect(interfaceOfPreview1Function("fd_write")).toBe("wasi:cli");
    expect(interfaceOfPreview1Function("fd_readdir")).toBe("wasi:cli");
    expect(interfaceOfPreview1Function("args_get")).toBe("wasi:cli");
    expect(interfaceOfPreview1Function("proc_exit")).toBe("wasi:cli");
    expect(interfaceOfPreview1Function("clock_time_get")).toBe("wasi:clocks");
    expect(interfaceOfPreview1Function("random_get")).toBe("wasi:random");
    expect(interfaceOfPreview1Function("path_open")).toBe("wasi:filesystem");
    expect(interfaceOfPreview1Function("poll_oneoff")).toBe("wasi:io");
    expect(interfaceOfPreview1Function("sock_recv")).toBe("wasi:sockets");
    expect(interfaceOfPreview1Function("toString")).toBeUndefined();
    expect(interfaceOfPreview1Function("nope")).toBeUndefined();
  });
});
