// Path resolution beneath a directory descriptor, one component at a time.
// A path may never leave the directory it is resolved against: absolute paths,
// `..` above it and symlinks whose target is absolute or climbs out are all
// ENOTCAPABLE. Symlinks are expanded here (never by the kernel), so the host
// path handed to node:fs contains no symlink except, when not following, the
// final component itself.

import type { BigIntStats } from "node:fs";
import { lstat, readlink, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { Errno, errnoOf, fail } from "./errno.ts";
import type { DirEntry, Preopen } from "./fdtable.ts";
import type { GuestMemory } from "./memory.ts";

const MAX_SYMLINKS = 40;

export interface Resolved {
  /** Host path of the final component (no trailing slash). */
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

/** Reads a path argument: NUL bytes and invalid UTF-8 are EILSEQ, empty is ENOENT. */
export function readPath(mem: GuestMemory, ptr: number, len: number): string {
  const bytes = mem.bytes(ptr, len);
  if (bytes.includes(0)) fail(Errno.ILSEQ);
  const path = mem.string(ptr, len);
  if (path === "") fail(Errno.NOENT);
  return path;
}

async function statDir(path: string): Promise<BigIntStats> {
  return await stat(path, { bigint: true });
}

async function lstatOrNull(path: string): Promise<BigIntStats | null> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (errnoOf(err) === Errno.NOENT) return null;
    throw err;
  }
}

/**
 * Resolves `path` beneath `dir`. Intermediate symlinks are always followed
 * (inside the sandbox); the final one only with `follow` or a trailing slash.
 */
export async function resolve(dir: DirEntry, path: string, follow: boolean): Promise<Resolved> {
  if (path.startsWith("/")) fail(Errno.NOTCAPABLE, "absolute path");
  const raw = path.split("/");
  const last = raw[raw.length - 1]!;
  const trailingSlash = last === "" || last === "." || last === "..";
  const dotFinal = last === "." || last === ".." || (raw.every((c) => c === "" || c === "."));
  const queue = raw.filter((c) => c !== "" && c !== ".");
  const stack: string[] = [];
  let finalStat: BigIntStats | null = null;
  // Set when the walk ends on a directory reached by ".." (or nothing at all).
  let statFinal = true;
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "..") {
      if (stack.length === 0) fail(Errno.NOTCAPABLE, "path leaves its directory");
      stack.pop();
      statFinal = true;
      continue;
    }
    const isLast = queue.length === 0;
    const host = join(dir.host, ...stack, c);
    const st = await lstatOrNull(host);
    if (st === null) {
      if (!isLast) fail(Errno.NOENT);
      stack.push(c);
      statFinal = false;
      break;
    }
    if (st.isSymbolicLink() && (!isLast || follow || trailingSlash)) {
      if (++links > MAX_SYMLINKS) fail(Errno.LOOP);
      const target = await readlink(host);
      if (target.startsWith("/")) fail(Errno.NOTCAPABLE, "symlink to an absolute path");
      if (target === "") fail(Errno.NOENT);
      queue.unshift(...target.split("/").filter((t) => t !== "" && t !== "."));
      continue;
    }
    if (!isLast && !st.isDirectory()) fail(Errno.NOTDIR);
    stack.push(c);
    if (isLast) {
      finalStat = st;
      statFinal = false;
    }
  }
  const host = join(dir.host, ...stack);
  // The descriptor's own directory may be reached through a symlinked mount root: follow it.
  if (statFinal) finalStat = stack.length === 0 ? await statDir(host) : await lstat(host, { bigint: true });
  return { host, parts: stack, stat: finalStat, trailingSlash, dotFinal };
}

/** The path to give the kernel: a trailing slash keeps its "must be a directory" meaning. */
export function kernelPath(r: Resolved): string {
  return r.trailingSlash && r.parts.length > 0 ? r.host + "/" : r.host;
}

/** Symlink contents the guest may create: relative, and not climbing out of the mount. */
export function checkSymlinkTarget(dir: DirEntry, linkParts: string[], target: string): void {
  if (target.includes("\0")) fail(Errno.ILSEQ);
  if (target === "") fail(Errno.NOENT);
  if (target.startsWith("/")) fail(Errno.NOTCAPABLE, "symlink to an absolute path");
  // The link lives in the parent of its own name.
  const at = [...dir.rel, ...linkParts.slice(0, -1)];
  for (const c of target.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (at.length === 0) fail(Errno.NOTCAPABLE, "symlink leads out of the mount");
      at.pop();
    } else at.push(c);
  }
}

/**
 * Defence in depth after an open: on Linux the kernel can tell us where the
 * opened file really is; it must be inside the mount, whatever raced us.
 */
export async function checkContained(mount: Preopen, osFd: number | null, host: string): Promise<void> {
  mount.real ??= realpath(mount.host).catch(() => mount.host);
  const root = await mount.real;
  let actual: string;
  try {
    actual = osFd === null ? await realpath(host) : await realpath(`/proc/self/fd/${osFd}`);
  } catch {
    return; // no /proc (not Linux) or the path is gone: nothing more to check
  }
  if (actual !== root && !actual.startsWith(root.endsWith(sep) ? root : root + sep)) {
    fail(Errno.NOTCAPABLE, "resolved outside the mount");
  }
}
