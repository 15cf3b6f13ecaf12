// wasi:filesystem's vocabulary: node errors → error-code, stats → descriptor
// types and stats, new-timestamps → utimes arguments. (Paths are checked by
// the shared sandbox, ../sandbox/paths.ts.)

import type { BigIntStats, Dirent } from "node:fs";

export type ErrorCode = string;

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
  // The sandbox's refusal (a path or link leading out of the mount, a directory moved or replaced).
  ENOTCAPABLE: "not-permitted",
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
