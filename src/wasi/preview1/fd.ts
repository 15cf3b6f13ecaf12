// fd_* functions about descriptors themselves: close/renumber, fdstat and
// filestat, flags and rights, preopen names and directory listings.

import type { BigIntStats } from "node:fs";
import { lstat, readdir, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { FDFLAGS_ALL, FDFLAGS_SYNCS, Filetype, PREOPENTYPE_DIR } from "./constants.ts";
import { dirPath } from "../sandbox/paths.ts";
import { type Ctx, type FnGroup, need, sandboxed, writable } from "./context.ts";
import { Errno, fail } from "./errno.ts";
import type { DirEntry, DirListingEntry, Entry } from "./fdtable.ts";
import { filetypeOf, writeBareFilestat, writeFilestat } from "./filestat.ts";
import { encodeUtf8 } from "./memory.ts";
import { hasAll, Rights } from "./rights.ts";

const DIRENT_SIZE = 24;

export function filetypeOfEntry(entry: Entry): number {
  if (entry.kind === "dir") return Filetype.DIRECTORY;
  if (entry.kind === "file") return Filetype.REGULAR_FILE;
  // The process's streams are character streams: unseekable, read or written in order.
  return Filetype.CHARACTER_DEVICE;
}

async function statEntry(ctx: Ctx, entry: Entry): Promise<BigIntStats | null> {
  if (entry.kind === "file") return await entry.handle.stat({ bigint: true });
  if (entry.kind === "dir") return await sandboxed(ctx, [entry], async () => await stat(await dirPath(entry), { bigint: true }));
  return null;
}

/** ".", ".." and the directory's names, with inode and type (snapshotted at cookie 0). Call under the mount's lock. */
async function listDir(dir: DirEntry): Promise<DirListingEntry[]> {
  const host = await dirPath(dir);
  const self = await stat(host, { bigint: true });
  // A descriptor is a sandbox root: its ".." is reported as itself, like "/" on Unix.
  const parent = dir.rel.length === 0 ? self : await stat(join(host, ".."), { bigint: true }).catch(() => self);
  const names = await readdir(host);
  const out: DirListingEntry[] = [
    { name: encodeUtf8("."), ino: self.ino, type: Filetype.DIRECTORY },
    { name: encodeUtf8(".."), ino: parent.ino, type: Filetype.DIRECTORY },
  ];
  const stats = await Promise.all(names.map((n) => lstat(join(host, n), { bigint: true }).catch(() => null)));
  names.forEach((name, i) => {
    const st = stats[i];
    // Gone since readdir: leave it out rather than report a stale name.
    if (st) out.push({ name: encodeUtf8(name), ino: st.ino, type: filetypeOf(st) });
  });
  return out;
}

export function fdFunctions(ctx: Ctx): FnGroup {
  const { mem, fds } = ctx;
  const { times } = ctx.shared;
  return {
    sync: {
      fd_fdstat_get: (fd: number, out: number) => {
        const entry = fds.get(fd);
        mem.zero(out, 24);
        mem.setU8(out, filetypeOfEntry(entry));
        mem.setU16(out + 2, entry.flags);
        mem.setU64(out + 8, entry.rightsBase);
        mem.setU64(out + 16, entry.rightsInheriting);
        return Errno.SUCCESS;
      },

      fd_fdstat_set_flags: (fd: number, flags: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_FDSTAT_SET_FLAGS);
        if ((flags & ~FDFLAGS_ALL) !== 0) return Errno.INVAL;
        // The sync family is fixed when the host file is opened.
        if ((flags & FDFLAGS_SYNCS) !== (entry.flags & FDFLAGS_SYNCS)) return Errno.NOTSUP;
        entry.flags = flags;
        return Errno.SUCCESS;
      },

      fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
        const entry = fds.get(fd);
        if (!hasAll(entry.rightsBase, base) || !hasAll(entry.rightsInheriting, inheriting)) return Errno.NOTCAPABLE;
        entry.rightsBase = base;
        entry.rightsInheriting = inheriting;
        return Errno.SUCCESS;
      },

      fd_prestat_get: (fd: number, out: number) => {
        const entry = fds.get(fd);
        if (entry.kind !== "dir" || !entry.preopen) return Errno.BADF;
        mem.zero(out, 8);
        mem.setU8(out, PREOPENTYPE_DIR);
        mem.setU32(out + 4, encodeUtf8(entry.mount.guest).byteLength);
        return Errno.SUCCESS;
      },

      fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
        const entry = fds.get(fd);
        if (entry.kind !== "dir" || !entry.preopen) return Errno.BADF;
        const name = encodeUtf8(entry.mount.guest);
        if (len >>> 0 < name.byteLength) return Errno.NAMETOOLONG;
        mem.write(ptr, name);
        return Errno.SUCCESS;
      },
    },
    suspending: {
      fd_close: async (fd: number) => {
        await fds.close(fd);
        return Errno.SUCCESS;
      },

      fd_renumber: async (from: number, to: number) => {
        await fds.renumber(from, to);
        return Errno.SUCCESS;
      },

      fd_filestat_get: async (fd: number, out: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_FILESTAT_GET);
        mem.bytes(out, 64);
        const st = await statEntry(ctx, entry);
        if (st) writeFilestat(mem, out, st, times);
        else writeBareFilestat(mem, out, filetypeOfEntry(entry));
        return Errno.SUCCESS;
      },

      fd_filestat_set_times: async (fd: number, atim: bigint, mtim: bigint, flags: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_FILESTAT_SET_TIMES);
        writable(entry);
        if (entry.kind === "file") {
          const h = entry.handle;
          await times.setTimes({ stat: () => h.stat({ bigint: true }), utimes: (a, m) => h.utimes(a, m) }, atim, mtim, flags);
        } else if (entry.kind === "dir") {
          await sandboxed(ctx, [entry], async () => {
            const host = await dirPath(entry);
            await times.setTimes({ stat: () => stat(host, { bigint: true }), utimes: (a, m) => utimes(host, a, m) }, atim, mtim, flags);
          });
        } else fail(Errno.BADF);
        return Errno.SUCCESS;
      },

      fd_readdir: async (fd: number, buf: number, bufLen: number, cookie: bigint, out: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_READDIR);
        if (entry.kind !== "dir") return Errno.NOTDIR;
        bufLen >>>= 0;
        mem.bytes(buf, bufLen);
        mem.bytes(out, 4);
        cookie = BigInt.asUintN(64, cookie);
        if (cookie === 0n || !entry.listing) entry.listing = await sandboxed(ctx, [entry], () => listDir(entry));
        const listing = entry.listing;
        // Whole entries while they fit; the last one is cut at the buffer's end, which tells the guest to grow it.
        const bytes = new Uint8Array(bufLen);
        let used = 0;
        for (let i = Number(cookie); i < listing.length && used < bufLen; i++) {
          const e = listing[i]!;
          const rec = new Uint8Array(DIRENT_SIZE + e.name.byteLength);
          const rv = new DataView(rec.buffer);
          rv.setBigUint64(0, BigInt(i + 1), true);
          rv.setBigUint64(8, e.ino, true);
          rv.setUint32(16, e.name.byteLength, true);
          rv.setUint8(20, e.type);
          rec.set(e.name, DIRENT_SIZE);
          const n = Math.min(rec.byteLength, bufLen - used);
          bytes.set(rec.subarray(0, n), used);
          used += n;
        }
        mem.write(buf, bytes.subarray(0, used));
        mem.setU32(out, used);
        return Errno.SUCCESS;
      },
    },
  };
}
