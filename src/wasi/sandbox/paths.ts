// The one filesystem sandbox of both WASI layers (preview1 and wasi:filesystem).
//
// Node has no openat() family: all we hold for a guest's directory descriptor
// is a host path, which the kernel resolves afresh on every call. So before a
// path operation, and holding the mount's folder lock (lock.ts):
//   1. the descriptor's directory is re-verified: its host path must still be
//      itself, with no symlink on the way and the device and inode recorded
//      when it was opened (a directory renamed away, or replaced by a symlink,
//      is refused rather than followed);
//   2. the guest's path is resolved beneath it one component at a time: `..`
//      never climbs above the descriptor, symlinks are expanded here (never by
//      the kernel) and must stay beneath it too;
//   3. the realpath of the result (of its parent, for something to create or a
//      final link not followed) must lie inside the mount's realpath.
// Only then does the caller touch the disk. Errors carry POSIX codes
// ("ENOTCAPABLE" for a refusal); each layer maps them onto its own errors.

import { realpathSync, statSync, type BigIntStats } from "node:fs";
import { lstat, readlink, realpath, stat } from "node:fs/promises";
import { resolve as absolutePath, dirname, join, posix, sep } from "node:path";
import { folderLocks } from "./lock.ts";

const MAX_SYMLINKS = 40;

/** Identifies a directory across renames of the path that led to it. */
export interface FileId {
  dev: bigint;
  ino: bigint;
}

interface Root extends FileId {
  /** realpath of the mount's host folder. */
  real: string;
}

/** A failed sandbox check or lookup, with the POSIX code both layers map. */
export function sandboxError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** One mount as a guest sees it; shared by every directory opened beneath it. */
export class Mount {
  /** Guest path of the preopen ("." for the working directory, see guestMounts). */
  readonly guest: string;
  /** Host folder (absolute), as configured. */
  readonly host: string;
  readonly readOnly: boolean;
  /** Set for the working-directory preopen: where it lies inside another mount. */
  readonly #within: { mount: Mount; path: string } | undefined;
  #root: Promise<Root> | undefined;

  constructor(guest: string, host: string, readOnly: boolean, within?: { mount: Mount; path: string }) {
    this.guest = guest;
    this.host = absolutePath(host);
    this.readOnly = readOnly;
    this.#within = within;
    // Pinned now, before the guest runs: worked out at first use, a folder the guest
    // had swapped for a symlink meanwhile would become the mount. A working
    // directory is found through its own mount's sandbox, so it cannot widen it.
    if (!within) {
      try {
        const real = realpathSync(this.host);
        const st = statSync(real, { bigint: true });
        if (st.isDirectory()) this.#root = Promise.resolve({ real, dev: st.dev, ino: st.ino });
      } catch {
        // missing for now: worked out (and reported) at first use
      }
    }
  }

  /** The real host folder and its identity, worked out once (a failure is retried next time). */
  root(): Promise<Root> {
    this.#root ??= this.#findRoot().catch((err: unknown) => {
      this.#root = undefined;
      throw err;
    });
    return this.#root;
  }

  async #findRoot(): Promise<Root> {
    let real: string;
    if (this.#within) {
      // The working directory is reached through its mount's sandbox, so a symlink there cannot widen it.
      const { mount, path } = this.#within;
      const r = await resolve({ mount, rel: [], id: null }, path, true);
      if (!r.stat?.isDirectory()) throw sandboxError("ENOTDIR", `working directory ${this.host} is not a directory`);
      real = r.host;
    } else {
      real = await realpath(this.host);
    }
    const st = await stat(real, { bigint: true });
    if (!st.isDirectory()) throw sandboxError("ENOTDIR", `mount ${this.host} is not a directory`);
    return { real, dev: st.dev, ino: st.ino };
  }
}

/** A directory descriptor: a place beneath a mount, plus who it was when opened. */
export interface SandboxDir {
  mount: Mount;
  /** Components below the mount's root; no symlink among them. */
  rel: readonly string[];
  /** Device and inode at open; null for the mount's own root (its identity is the mount's). */
  id: FileId | null;
}

export interface Resolved {
  /** Host path of the final component (no trailing slash), free of symlinks up to its parent. */
  host: string;
  /** Components below the directory descriptor. Empty: the directory itself. */
  parts: string[];
  /** lstat of the final component; null when it does not exist. */
  stat: BigIntStats | null;
  /** The guest's path ended in "/" (or "/." etc.): the target must be a directory. */
  trailingSlash: boolean;
  /** The guest's last component was "." or "..": no name to create or remove. */
  dotFinal: boolean;
}

const inside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

async function lstatOrNull(path: string): Promise<BigIntStats | null> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Runs `op` holding the folder lock of every mount the directories belong to.
 * Every use of dirPath/resolve and the disk operation after it belong inside.
 */
export async function inSandbox<T>(dirs: readonly SandboxDir[], signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
  const roots = await Promise.all(dirs.map((d) => d.mount.root()));
  return folderLocks.run(roots.map((r) => r.real), signal, op);
}

/**
 * The directory's host path, verified: still the same directory (device and
 * inode), reached without any symlink, inside its mount. Refused otherwise.
 */
export async function dirPath(dir: SandboxDir): Promise<string> {
  const root = await dir.mount.root();
  const path = join(root.real, ...dir.rel);
  const id = dir.id ?? root;
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") throw sandboxError("ENOENT", `directory ${path} is gone`);
    throw err;
  }
  const st = await stat(real, { bigint: true });
  if (real !== path || st.dev !== id.dev || st.ino !== id.ino) {
    throw sandboxError("ENOTCAPABLE", `directory ${path} was moved or replaced since it was opened`);
  }
  return path;
}

/**
 * Resolves `path` beneath `dir`. Intermediate symlinks are always followed
 * (inside the directory); the final one only with `follow` or a trailing slash.
 */
export async function resolve(dir: SandboxDir, path: string, follow: boolean): Promise<Resolved> {
  if (path.includes("\0")) throw sandboxError("EILSEQ", "path holds a NUL byte");
  if (path === "") throw sandboxError("ENOENT", "empty path");
  if (path.startsWith("/")) throw sandboxError("ENOTCAPABLE", "absolute path");
  const base = await dirPath(dir);
  const raw = path.split("/");
  const last = raw[raw.length - 1]!;
  const trailingSlash = last === "" || last === "." || last === "..";
  const dotFinal = last === "." || last === ".." || raw.every((c) => c === "" || c === ".");
  const queue = raw.filter((c) => c !== "" && c !== ".");
  const stack: string[] = [];
  let finalStat: BigIntStats | null = null;
  // Set when the walk ends on a directory reached by ".." (or nothing at all).
  let statFinal = true;
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "..") {
      if (stack.length === 0) throw sandboxError("ENOTCAPABLE", "path leaves its directory");
      stack.pop();
      statFinal = true;
      continue;
    }
    const isLast = queue.length === 0;
    const host = join(base, ...stack, c);
    const st = await lstatOrNull(host);
    if (st === null) {
      if (!isLast) throw sandboxError("ENOENT", `no such directory ${host}`);
      stack.push(c);
      statFinal = false;
      break;
    }
    if (st.isSymbolicLink() && (!isLast || follow || trailingSlash)) {
      if (++links > MAX_SYMLINKS) throw sandboxError("ELOOP", "too many symlinks");
      const target = await readlink(host);
      if (target.startsWith("/")) throw sandboxError("ENOTCAPABLE", "symlink to an absolute path");
      if (target === "") throw sandboxError("ENOENT", "empty symlink");
      queue.unshift(...target.split("/").filter((t) => t !== "" && t !== "."));
      continue;
    }
    if (!isLast && !st.isDirectory()) throw sandboxError("ENOTDIR", `${host} is not a directory`);
    stack.push(c);
    if (isLast) {
      finalStat = st;
      statFinal = false;
    }
  }
  const host = join(base, ...stack);
  if (statFinal) finalStat = await lstat(host, { bigint: true });
  if (stack.length > 0) {
    // Something to create, or a link not followed: its parent is what the kernel will walk.
    const whole = finalStat !== null && !finalStat.isSymbolicLink();
    const real = await realpath(whole ? host : dirname(host));
    if (!inside(real, (await dir.mount.root()).real)) throw sandboxError("ENOTCAPABLE", `${host} resolves outside its mount`);
  }
  return { host, parts: stack, stat: finalStat, trailingSlash, dotFinal };
}

/** The path to give the kernel: a trailing slash keeps its "must be a directory" meaning. */
export function kernelPath(r: Resolved): string {
  return r.trailingSlash && r.parts.length > 0 ? r.host + "/" : r.host;
}

/** The descriptor for a directory `r` found beneath `dir` (r.stat must be its lstat). */
export function childDir(dir: SandboxDir, r: Resolved): SandboxDir {
  if (r.parts.length === 0) return dir;
  return { mount: dir.mount, rel: [...dir.rel, ...r.parts], id: { dev: r.stat!.dev, ino: r.stat!.ino } };
}

/**
 * Symlink contents a guest may create: relative, and not climbing out of the
 * mount from where the link lies. (Each use is checked again by resolve: a
 * link moved elsewhere later is refused when followed.)
 */
export function checkLinkTarget(dir: SandboxDir, linkParts: readonly string[], target: string): void {
  if (target.includes("\0")) throw sandboxError("EILSEQ", "symlink target holds a NUL byte");
  if (target === "") throw sandboxError("ENOENT", "empty symlink target");
  if (target.startsWith("/")) throw sandboxError("ENOTCAPABLE", "symlink to an absolute path");
  // The link lives in the parent of its own name.
  const at = [...dir.rel, ...linkParts.slice(0, -1)];
  for (const c of target.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (at.length === 0) throw sandboxError("ENOTCAPABLE", "symlink leads out of the mount");
      at.pop();
    } else at.push(c);
  }
}

/**
 * The preopens a guest gets for its mounts, plus one named "." for `cwd`.
 * wasi-libc (and so C, C++ and Rust guests) starts in "/" and resolves a
 * relative path like an absolute one, against the preopen with the longest
 * matching name; "." counts as the empty name, which matches what no other
 * mount does. So relative paths land in `cwd`. With a mount at "/" that
 * preopen would shadow it, so none is added; nor when cwd lies in no mount.
 */
export function guestMounts(mounts: readonly { guest: string; host: string; readOnly: boolean }[], cwd: string | undefined): Mount[] {
  const list = mounts.map((m) => new Mount(m.guest, m.host, m.readOnly));
  if (cwd === undefined) return list;
  const norm = (p: string): string => posix.normalize(`/${p}/`).replace(/\/+$/, "") || "/";
  const at = norm(cwd);
  if (at === "/" || list.some((m) => norm(m.guest) === "/")) return list;
  let best: Mount | undefined;
  for (const m of list) {
    const g = norm(m.guest);
    if ((at === g || at.startsWith(g + "/")) && (!best || g.length > norm(best.guest).length)) best = m;
  }
  if (!best) return list;
  const rest = at.slice(norm(best.guest).length).replace(/^\/+/, "");
  const cwdMount = new Mount(".", join(best.host, rest), best.readOnly, rest === "" ? undefined : { mount: best, path: rest });
  return [...list, cwdMount];
}
