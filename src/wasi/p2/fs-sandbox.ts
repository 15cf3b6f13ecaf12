// Paths inside a mount: a guest path never leaves the directory it is resolved
// against — not by `..`, not by an absolute path, not through a symlink.
// Also: node errors → wasi:filesystem error-code.

import type { BigIntStats, Dirent } from "node:fs";
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";

export type ErrorCode = string;

const MAX_SYMLINKS = 40;

const split = (p: string) => p.split("/").filter((s) => s !== "" && s !== ".");

/**
 * Resolves `path` against the directory `root/base` and returns the segments
 * below `root/base`, with symlinks followed (the last one only if `followFinal`).
 * Throws `not-permitted` for anything that would leave `root/base`.
 */
export async function resolveIn(root: string, base: readonly string[], path: string, followFinal: boolean): Promise<string[]> {
  if (path.startsWith("/")) throw "not-permitted";
  if (path.includes("\0")) throw "invalid";
  const trailingSlash = path.endsWith("/");
  let pending = split(path);
  const segs: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const seg = pending.shift() as string;
    if (seg === "..") {
      if (segs.pop() === undefined) throw "not-permitted";
      continue;
    }
    const final = pending.length === 0;
    if (final && !followFinal && !trailingSlash) {
      segs.push(seg);
      break;
    }
    const host = join(root, ...base, ...segs, seg);
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw errorCode(err);
      // Missing: fine for a path about to be created, unless more `..` would climb through it.
      if (pending.includes("..")) throw "no-entry";
      segs.push(seg, ...pending);
      break;
    }
    if (!st.isSymbolicLink()) {
      segs.push(seg);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw "loop";
    const target = await readlink(host).catch((err: unknown) => {
      throw errorCode(err);
    });
    if (target.startsWith("/")) throw "not-permitted";
    // The target is relative to the link's directory, i.e. to `segs` as they stand.
    pending = [...split(target), ...pending];
  }
  return segs;
}

/** True when a symlink at `segs` (its own name last) pointing at `target` stays below the root. */
export function linkStaysInside(segs: readonly string[], target: string): boolean {
  if (target.startsWith("/")) return false;
  let depth = segs.length - 1;
  for (const s of split(target)) {
    depth += s === ".." ? -1 : 1;
    if (depth < 0) return false;
  }
  return true;
}

const CODES: Record<string, ErrorCode> = {
  EACCES: "access",
  EAGAIN: "would-block",
  EALREADY: "already",
  EBADF: "bad-descriptor",
  EBUSY: "busy",
  EDEADLK: "deadlock",
  EDQUOT: "quota",
  EEXIST: "exist",
  EFBIG: "file-too-large",
  EILSEQ: "illegal-byte-sequence",
  EINPROGRESS: "in-progress",
  EINTR: "interrupted",
  EINVAL: "invalid",
  EIO: "io",
  EISDIR: "is-directory",
  ELOOP: "loop",
  EMLINK: "too-many-links",
  EMSGSIZE: "message-size",
  ENAMETOOLONG: "name-too-long",
  ENODEV: "no-device",
  ENOENT: "no-entry",
  ENOLCK: "no-lock",
  ENOMEM: "insufficient-memory",
  ENOSPC: "insufficient-space",
  ENOTDIR: "not-directory",
  ENOTEMPTY: "not-empty",
  ENOTRECOVERABLE: "not-recoverable",
  ENOTSUP: "unsupported",
  EOPNOTSUPP: "unsupported",
  ENOTTY: "no-tty",
  ENXIO: "no-such-device",
  EOVERFLOW: "overflow",
  EPERM: "not-permitted",
  EPIPE: "pipe",
  EROFS: "read-only",
  ESPIPE: "invalid-seek",
  ETXTBSY: "text-file-busy",
  EXDEV: "cross-device",
};

const KNOWN = new Set(Object.values(CODES));
export const isErrorCode = (c: unknown): c is ErrorCode => typeof c === "string" && KNOWN.has(c);

/**
 * The error-code for a failed node:fs call. Codes pass through; anything that
 * is not an fs error (the process ending, a host bug) is rethrown as it is.
 */
export function errorCode(err: unknown): ErrorCode {
  if (typeof err === "string") return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("E")) return CODES[code] ?? "io";
  throw err;
}

type Typed = Pick<Dirent, "isFile" | "isDirectory" | "isSymbolicLink" | "isFIFO" | "isSocket" | "isCharacterDevice" | "isBlockDevice">;

export function descriptorType(s: Typed): string {
  if (s.isFile()) return "regular-file";
  if (s.isDirectory()) return "directory";
  if (s.isSymbolicLink()) return "symbolic-link";
  if (s.isFIFO()) return "fifo";
  if (s.isSocket()) return "socket";
  if (s.isCharacterDevice()) return "character-device";
  if (s.isBlockDevice()) return "block-device";
  return "unknown";
}

const NS = 1_000_000_000n;
const datetime = (ns: bigint) => ({ seconds: ns / NS, nanoseconds: Number(ns % NS) });

export function descriptorStat(st: BigIntStats) {
  return {
    type: descriptorType(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: datetime(st.atimeNs),
    dataModificationTimestamp: datetime(st.mtimeNs),
    statusChangeTimestamp: datetime(st.ctimeNs),
  };
}

export type NewTimestamp = { tag: "no-change" } | { tag: "now" } | { tag: "timestamp"; val: { seconds: bigint; nanoseconds: number } };

/** A utimes argument (seconds) for a new-timestamp; `current` for no-change. */
export function timestampSeconds(t: NewTimestamp, current: bigint): number {
  if (t.tag === "now") return Date.now() / 1000;
  if (t.tag === "timestamp") return Number(t.val.seconds) + t.val.nanoseconds / 1e9;
  return Number(current) / 1e9;
}
