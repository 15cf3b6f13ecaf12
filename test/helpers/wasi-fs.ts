// Drives the filesystem of either WASI layer from a test, one call at a time,
// behind one interface: preview1 through a wasm "proxy" module that re-exports
// the host functions (so every call crosses a real instance, with JSPI), and
// wasi:filesystem through its resource API as jco calls it. Outcomes are "ok"
// or the layer's own error name (preview1: "NOTCAPABLE"; p2: "not-permitted").

import { parse } from "@bytecodealliance/jco";
import type { WasmEntry } from "../../src/registry/types.ts";
import { Budget } from "../../src/process/budget.ts";
import { createP2Imports } from "../../src/wasi/p2/index.ts";
import { createPreview1Host, Errno } from "../../src/wasi/preview1/index.ts";
import type { ProcessIO } from "../../src/wasm/program.ts";

export type Mounts = ProcessIO["mounts"];
/** A directory descriptor of either layer (a preview1 fd or a p2 descriptor). */
export type Dir = { readonly layer: "preview1" | "p2"; readonly handle: unknown };
export type Outcome = string;

export interface FsDriver {
  layer: "preview1" | "p2";
  /** The error name a sandbox refusal has in this layer. */
  refused: string;
  /** One directory per preopen, in order (a "." preopen for cwd comes last). */
  roots: Dir[];
  mkdir(dir: Dir, path: string): Promise<Outcome>;
  symlink(dir: Dir, target: string, path: string): Promise<Outcome>;
  rename(from: Dir, oldPath: string, to: Dir, newPath: string): Promise<Outcome>;
  link(from: Dir, oldPath: string, to: Dir, newPath: string): Promise<Outcome>;
  unlink(dir: Dir, path: string): Promise<Outcome>;
  rmdir(dir: Dir, path: string): Promise<Outcome>;
  stat(dir: Dir, path: string, follow: boolean): Promise<Outcome>;
  touch(dir: Dir, path: string): Promise<Outcome>;
  readlink(dir: Dir, path: string): Promise<{ outcome: Outcome; text?: string }>;
  openDir(dir: Dir, path: string): Promise<{ outcome: Outcome; dir?: Dir }>;
  readFile(dir: Dir, path: string, follow: boolean): Promise<{ outcome: Outcome; text?: string }>;
  writeFile(dir: Dir, path: string, text: string): Promise<Outcome>;
  list(dir: Dir): Promise<{ outcome: Outcome; names?: string[] }>;
  close(): Promise<void>;
}

function io(mounts: Mounts, cwd: string | undefined, signal?: AbortSignal): ProcessIO {
  return {
    entry: { id: "t:fs", method: "_start", imports: ["wasi:cli", "wasi:io", "wasi:filesystem"] } as unknown as WasmEntry,
    argv: ["fs"],
    env: {},
    mounts,
    ...(cwd !== undefined ? { cwd } : {}),
    budget: new Budget({}),
    onPreempt: () => {},
    stdout: () => {},
    stderr: () => {},
    onSuspend: () => {},
    onResume: () => {},
    ...(signal ? { signal } : {}),
  };
}

// ---- preview1 ----

const SIGNATURES: Record<string, string> = {
  path_open: "i32 i32 i32 i32 i32 i64 i64 i32 i32",
  path_create_directory: "i32 i32 i32",
  path_symlink: "i32 i32 i32 i32 i32",
  path_rename: "i32 i32 i32 i32 i32 i32",
  path_link: "i32 i32 i32 i32 i32 i32 i32",
  path_unlink_file: "i32 i32 i32",
  path_remove_directory: "i32 i32 i32",
  path_filestat_get: "i32 i32 i32 i32 i32",
  path_filestat_set_times: "i32 i32 i32 i32 i64 i64 i32",
  path_readlink: "i32 i32 i32 i32 i32 i32",
  fd_readdir: "i32 i32 i32 i64 i32",
  fd_read: "i32 i32 i32 i32",
  fd_write: "i32 i32 i32 i32",
  fd_close: "i32",
  fd_prestat_get: "i32 i32",
};

const PROXY_WAT = `(module
${Object.entries(SIGNATURES)
  .map(([n, p]) => `  (import "wasi_snapshot_preview1" "${n}" (func $${n} (param ${p}) (result i32)))`)
  .join("\n")}
  (memory (export "memory") 2)
${Object.entries(SIGNATURES)
  .map(([n, p]) => `  (func (export "${n}") (param ${p}) (result i32) ${p.split(" ").map((_, i) => `(local.get ${i})`).join(" ")} (call $${n}))`)
  .join("\n")}
)`;

let proxyModule: Promise<WebAssembly.Module> | undefined;
const promising = (WebAssembly as unknown as { promising: (f: unknown) => (...a: unknown[]) => Promise<number> }).promising;
const ERRNO_NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

// Guest memory layout.
const OUT = 64;
const IOV = 128;
const P1 = 1024;
const P2 = 2048;
const BUF = 8192;
const BUF_LEN = 65536;
const ALL_RIGHTS = (1n << 30n) - 1n;
const FD_READ = 1n << 1n;
const FD_WRITE = 1n << 6n;
/** A directory's rights: everything but those that need the host file open for writing. */
const DIR_RIGHTS = ALL_RIGHTS & ~(FD_WRITE | (1n << 8n) | (1n << 22n));
const O_CREAT = 1;
const O_DIRECTORY = 2;
const O_TRUNC = 8;
const FOLLOW = 1;

export async function preview1Driver(mounts: Mounts, cwd?: string): Promise<FsDriver> {
  proxyModule ??= parse(PROXY_WAT).then((b) => new WebAssembly.Module(b as Uint8Array<ArrayBuffer>));
  const host = createPreview1Host({ io: io(mounts, cwd), granted: new Set(["wasi:cli", "wasi:filesystem"]) });
  const instance = new WebAssembly.Instance(await proxyModule, host.imports);
  const memory = instance.exports.memory as WebAssembly.Memory;
  host.bindMemory(memory);
  const bytes = () => new Uint8Array(memory.buffer);
  const view = () => new DataView(memory.buffer);
  const call = (name: string, ...args: (number | bigint)[]) => promising(instance.exports[name])(...args);
  const put = (at: number, s: string): number => {
    const b = new TextEncoder().encode(s);
    bytes().set(b, at);
    return b.byteLength;
  };
  const name = (errno: number): Outcome => (errno === 0 ? "ok" : (ERRNO_NAMES.get(errno) ?? String(errno)));
  const dir = (fd: number): Dir => ({ layer: "preview1", handle: fd });
  const fdOf = (d: Dir): number => d.handle as number;
  const open = async (d: Dir, path: string, lookup: number, oflags: number, rights: bigint): Promise<[Outcome, number]> => {
    const errno = await call("path_open", fdOf(d), lookup, P1, put(P1, path), oflags, rights, ALL_RIGHTS, 0, OUT);
    return [name(errno), view().getUint32(OUT, true)];
  };
  const pathOp = async (fn: string, d: Dir, path: string) => name(await call(fn, fdOf(d), P1, put(P1, path)));
  const twoPaths = async (fn: string, from: Dir, oldPath: string, to: Dir, newPath: string, flags?: number) => {
    const ol = put(P1, oldPath);
    const nl = put(P2, newPath);
    const args = flags === undefined ? [fdOf(from), P1, ol, fdOf(to), P2, nl] : [fdOf(from), flags, P1, ol, fdOf(to), P2, nl];
    return name(await call(fn, ...args));
  };

  const roots: Dir[] = [];
  for (let fd = 3; (await call("fd_prestat_get", fd, OUT)) === 0; fd++) roots.push(dir(fd));

  return {
    layer: "preview1",
    refused: "NOTCAPABLE",
    roots,
    mkdir: (d, path) => pathOp("path_create_directory", d, path),
    symlink: async (d, target, path) => name(await call("path_symlink", P2, put(P2, target), fdOf(d), P1, put(P1, path))),
    rename: (from, o, to, n) => twoPaths("path_rename", from, o, to, n),
    link: (from, o, to, n) => twoPaths("path_link", from, o, to, n, 0),
    unlink: (d, path) => pathOp("path_unlink_file", d, path),
    rmdir: (d, path) => pathOp("path_remove_directory", d, path),
    stat: async (d, path, follow) => name(await call("path_filestat_get", fdOf(d), follow ? FOLLOW : 0, P1, put(P1, path), BUF)),
    // Both times to "now" (fstflags ATIM_NOW | MTIM_NOW).
    touch: async (d, path) => name(await call("path_filestat_set_times", fdOf(d), 0, P1, put(P1, path), 0n, 0n, 2 | 8)),
    readlink: async (d, path) => {
      const outcome = name(await call("path_readlink", fdOf(d), P1, put(P1, path), BUF, BUF_LEN, OUT));
      if (outcome !== "ok") return { outcome };
      return { outcome, text: Buffer.from(bytes().slice(BUF, BUF + view().getUint32(OUT, true))).toString() };
    },
    openDir: async (d, path) => {
      const [outcome, fd] = await open(d, path, FOLLOW, O_DIRECTORY, DIR_RIGHTS);
      return outcome === "ok" ? { outcome, dir: dir(fd) } : { outcome };
    },
    readFile: async (d, path, follow) => {
      const [outcome, fd] = await open(d, path, follow ? FOLLOW : 0, 0, FD_READ);
      if (outcome !== "ok") return { outcome };
      view().setUint32(IOV, BUF, true);
      view().setUint32(IOV + 4, BUF_LEN, true);
      const errno = await call("fd_read", fd, IOV, 1, OUT);
      const text = Buffer.from(bytes().slice(BUF, BUF + view().getUint32(OUT, true))).toString();
      await call("fd_close", fd);
      return errno === 0 ? { outcome, text } : { outcome: name(errno) };
    },
    writeFile: async (d, path, text) => {
      const [outcome, fd] = await open(d, path, FOLLOW, O_CREAT | O_TRUNC, FD_READ | FD_WRITE);
      if (outcome !== "ok") return outcome;
      view().setUint32(IOV, BUF, true);
      view().setUint32(IOV + 4, put(BUF, text), true);
      const errno = await call("fd_write", fd, IOV, 1, OUT);
      await call("fd_close", fd);
      return name(errno);
    },
    list: async (d) => {
      const errno = await call("fd_readdir", fdOf(d), BUF, BUF_LEN, 0n, OUT);
      if (errno !== 0) return { outcome: name(errno) };
      const used = view().getUint32(OUT, true);
      const names: string[] = [];
      for (let at = 0; at + 24 <= used; ) {
        const len = view().getUint32(BUF + at + 16, true);
        names.push(Buffer.from(bytes().slice(BUF + at + 24, BUF + at + 24 + len)).toString());
        at += 24 + len;
      }
      return { outcome: "ok", names: names.filter((n) => n !== "." && n !== "..") };
    },
    close: () => host.close(),
  };
}

// ---- wasi:filesystem (p2) ----

// The WIT surface as jco calls it: untyped on purpose (as in test/p2.test.ts).
export function p2Driver(mounts: Mounts, cwd?: string): FsDriver {
  const abort = new AbortController();
  const imports = createP2Imports(io(mounts, cwd, abort.signal), ["wasi:filesystem/preopens", "wasi:filesystem/types"]) as Record<string, any>;
  const dir = (descriptor: unknown): Dir => ({ layer: "p2", handle: descriptor });
  const d = (x: Dir): any => x.handle;
  /** "ok", or the error-code the host threw (anything else is a host bug and propagates). */
  const attempt = async <T>(f: () => Promise<T>): Promise<{ outcome: Outcome; value?: T }> => {
    try {
      return { outcome: "ok", value: await f() };
    } catch (err) {
      if (typeof err === "string") return { outcome: err };
      throw err;
    }
  };
  const outcome = async (f: () => Promise<unknown>) => (await attempt(f)).outcome;
  const roots = (imports["wasi:filesystem/preopens"].getDirectories() as [unknown, string][]).map(([desc]) => dir(desc));
  const readAll = async (file: any): Promise<string> => {
    const [data] = (await file.read(1n << 20n, 0n)) as [Uint8Array, boolean];
    return Buffer.from(data).toString();
  };

  return {
    layer: "p2",
    refused: "not-permitted",
    roots,
    mkdir: (x, path) => outcome(() => d(x).createDirectoryAt(path)),
    symlink: (x, target, path) => outcome(() => d(x).symlinkAt(target, path)),
    rename: (from, o, to, n) => outcome(() => d(from).renameAt(o, d(to), n)),
    link: (from, o, to, n) => outcome(() => d(from).linkAt({}, o, d(to), n)),
    unlink: (x, path) => outcome(() => d(x).unlinkFileAt(path)),
    rmdir: (x, path) => outcome(() => d(x).removeDirectoryAt(path)),
    stat: (x, path, follow) => outcome(() => d(x).statAt({ symlinkFollow: follow }, path)),
    touch: (x, path) => outcome(() => d(x).setTimesAt({}, path, { tag: "now" }, { tag: "now" })),
    readlink: async (x, path) => {
      const r = await attempt(() => d(x).readlinkAt(path) as Promise<string>);
      return r.outcome === "ok" ? { outcome: "ok", text: r.value! } : { outcome: r.outcome };
    },
    openDir: async (x, path) => {
      const r = await attempt(() => d(x).openAt({ symlinkFollow: true }, path, { directory: true }, { read: true, mutateDirectory: true }));
      return r.outcome === "ok" ? { outcome: "ok", dir: dir(r.value) } : { outcome: r.outcome };
    },
    readFile: async (x, path, follow) => {
      const r = await attempt(async () => {
        const file = await d(x).openAt({ symlinkFollow: follow }, path, {}, { read: true });
        try {
          return await readAll(file);
        } finally {
          file[Symbol.dispose]();
        }
      });
      return r.outcome === "ok" ? { outcome: "ok", text: r.value! } : { outcome: r.outcome };
    },
    writeFile: (x, path, text) =>
      outcome(async () => {
        const file = await d(x).openAt({ symlinkFollow: true }, path, { create: true, truncate: true }, { read: true, write: true });
        try {
          await file.write(new TextEncoder().encode(text), 0n);
        } finally {
          file[Symbol.dispose]();
        }
      }),
    list: async (x) => {
      const r = await attempt(async () => {
        const stream = await d(x).readDirectory();
        const names: string[] = [];
        for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) names.push(e.name as string);
        return names;
      });
      return r.outcome === "ok" ? { outcome: "ok", names: r.value! } : { outcome: r.outcome };
    },
    close: async () => abort.abort(),
  };
}

/** Both layers, for describe.each. */
export const LAYERS = [
  { layer: "preview1", driver: preview1Driver },
  { layer: "p2", driver: async (mounts: Mounts, cwd?: string) => p2Driver(mounts, cwd) },
] as const;
