// File attributes for the guest, with timestamps exact to the nanosecond.
//
// Node (libuv) sets file times from a double of seconds, which cannot carry
// every nanosecond of a present-day time. So when the guest sets a time we
// write the nearest value libuv can, read back what the disk holds, and
// remember "disk value → requested value" per inode: while the disk still
// holds exactly that value the guest sees its own nanoseconds; any other change
// of that time on disk (a write, another set) makes the note stale and unused.
// The notes belong to a runtime (FileTimes, shared by its processes: the inode
// is what carries the time), never to the module.

import type { BigIntStats } from "node:fs";
import { Filetype, Fstflags } from "./constants.ts";
import { Errno, fail } from "./errno.ts";
import type { GuestMemory } from "./memory.ts";

interface TimeNote {
  atim?: [disk: bigint, exact: bigint];
  mtim?: [disk: bigint, exact: bigint];
}

const MAX_NOTES = 8192;

const keyOf = (st: BigIntStats): string => `${st.dev}:${st.ino}`;

export function filetypeOf(st: BigIntStats): number {
  if (st.isFile()) return Filetype.REGULAR_FILE;
  if (st.isDirectory()) return Filetype.DIRECTORY;
  if (st.isSymbolicLink()) return Filetype.SYMBOLIC_LINK;
  if (st.isCharacterDevice()) return Filetype.CHARACTER_DEVICE;
  if (st.isBlockDevice()) return Filetype.BLOCK_DEVICE;
  if (st.isSocket()) return Filetype.SOCKET_STREAM;
  return Filetype.UNKNOWN;
}

export function writeFilestat(mem: GuestMemory, ptr: number, st: BigIntStats, times: FileTimes): void {
  const t = times.timesOf(st);
  mem.zero(ptr, 64);
  mem.setU64(ptr, st.dev);
  mem.setU64(ptr + 8, st.ino);
  mem.setU8(ptr + 16, filetypeOf(st));
  mem.setU64(ptr + 24, st.nlink);
  mem.setU64(ptr + 32, st.size);
  mem.setU64(ptr + 40, t.atim);
  mem.setU64(ptr + 48, t.mtim);
  mem.setU64(ptr + 56, t.ctim);
}

/** Filestat of something that is not a host file (stdio). */
export function writeBareFilestat(mem: GuestMemory, ptr: number, filetype: number): void {
  mem.zero(ptr, 64);
  mem.setU8(ptr + 16, filetype);
}

/** Rejects flag combinations preview1 calls invalid (a time and "now" for the same field). */
export function checkFstflags(flags: number): void {
  if ((flags & ~15) !== 0) fail(Errno.INVAL);
  if ((flags & Fstflags.ATIM) && (flags & Fstflags.ATIM_NOW)) fail(Errno.INVAL);
  if ((flags & Fstflags.MTIM) && (flags & Fstflags.MTIM_NOW)) fail(Errno.INVAL);
}

export interface TimeTarget {
  stat(): Promise<BigIntStats>;
  utimes(atime: number, mtime: number): Promise<void>;
}

const NS = 1_000_000_000n;

// The double closest to ns/1e9 that libuv will split back into (sec, nsec).
function toSeconds(ns: bigint): number {
  return Number(ns / NS) + Number(ns % NS) / 1e9;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The exact times guests set, by inode: one per runtime. */
export class FileTimes {
  readonly #notes = new Map<string, TimeNote>();

  /** The times a guest sees: its own nanoseconds while the disk holds what they were written as. */
  timesOf(st: BigIntStats): { atim: bigint; mtim: bigint; ctim: bigint } {
    const note = this.#notes.get(keyOf(st));
    const atim = note?.atim && note.atim[0] === st.atimeNs ? note.atim[1] : st.atimeNs;
    const mtim = note?.mtim && note.mtim[0] === st.mtimeNs ? note.mtim[1] : st.mtimeNs;
    return { atim, mtim, ctim: st.ctimeNs };
  }

  /** fd_filestat_set_times / path_filestat_set_times, exact as the guest sees it. */
  async setTimes(target: TimeTarget, atim: bigint, mtim: bigint, flags: number): Promise<void> {
    checkFstflags(flags);
    // u64 arguments arrive as signed i64.
    atim = BigInt.asUintN(64, atim);
    mtim = BigInt.asUintN(64, mtim);
    const before = await target.stat();
    const current = this.timesOf(before);
    // A field the guest leaves alone is written back as it was (libuv has no "omit").
    const a = flags & Fstflags.ATIM ? atim : flags & Fstflags.ATIM_NOW ? null : current.atim;
    const m = flags & Fstflags.MTIM ? mtim : flags & Fstflags.MTIM_NOW ? null : current.mtim;
    const now = nowNs();
    await target.utimes(toSeconds(a ?? now), toSeconds(m ?? now));
    const after = await target.stat();
    const note: TimeNote = {};
    if (a !== null && after.atimeNs !== a) note.atim = [after.atimeNs, a];
    if (m !== null && after.mtimeNs !== m) note.mtim = [after.mtimeNs, m];
    const key = keyOf(after);
    this.#notes.delete(key);
    if (note.atim || note.mtim) {
      if (this.#notes.size >= MAX_NOTES) this.#notes.delete(this.#notes.keys().next().value!);
      this.#notes.set(key, note);
    }
  }
}
