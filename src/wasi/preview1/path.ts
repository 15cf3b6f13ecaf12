// path_* functions (filesystem): every path is resolved beneath its directory
// descriptor by ../sandbox/paths.ts, holding the mount's folder lock, before
// the disk is touched; anything that would change the disk is refused under a
// read-only mount before that.

import { link, lstat, lutimes, mkdir, readlink, rename, rmdir, symlink, unlink } from "node:fs/promises";
import { LOOKUP_SYMLINK_FOLLOW } from "./constants.ts";
import { checkLinkTarget, kernelPath, resolve, type Resolved } from "../sandbox/paths.ts";
import { type Ctx, type FnGroup, need, sandboxed, writable } from "./context.ts";
import { Errno, fail } from "./errno.ts";
import type { DirEntry } from "./fdtable.ts";
import { checkFstflags, writeFilestat } from "./filestat.ts";
import { readPath } from "./memory.ts";
import { pathOpen } from "./open.ts";
import { Rights } from "./rights.ts";

function dirOf(ctx: Ctx, fd: number): DirEntry {
  const entry = ctx.fds.get(fd);
  if (entry.kind !== "dir") fail(Errno.NOTDIR);
  return entry;
}

/** A path naming something to create or remove: "." and ".." name nothing. */
function named(r: Resolved, dotErrno: number): Resolved {
  if (r.dotFinal || r.parts.length === 0) fail(dotErrno);
  return r;
}

export function pathFunctions(ctx: Ctx): FnGroup {
  const { mem } = ctx;
  const { times } = ctx.shared;
  return {
    suspending: {
      path_open: (fd: number, dirflags: number, p: number, l: number, oflags: number, base: bigint, inh: bigint, fdflags: number, out: number) =>
        pathOpen(ctx, fd, dirflags, p, l, oflags, base, inh, fdflags, out),

      path_create_directory: async (fd: number, p: number, l: number) => {
        const dir = dirOf(ctx, fd);
        const path = readPath(mem, p, l);
        writable(dir);
        need(dir, Rights.PATH_CREATE_DIRECTORY);
        return sandboxed(ctx, [dir], async () => {
          const r = named(await resolve(dir, path, false), Errno.EXIST);
          await mkdir(r.host);
          return Errno.SUCCESS;
        });
      },

      path_filestat_get: async (fd: number, flags: number, p: number, l: number, out: number) => {
        const dir = dirOf(ctx, fd);
        const path = readPath(mem, p, l);
        need(dir, Rights.PATH_FILESTAT_GET);
        mem.bytes(out, 64);
        const r = await sandboxed(ctx, [dir], () => resolve(dir, path, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0));
        if (!r.stat) fail(Errno.NOENT);
        if (r.trailingSlash && !r.stat.isDirectory()) fail(Errno.NOTDIR);
        writeFilestat(mem, out, r.stat, times);
        return Errno.SUCCESS;
      },

      path_filestat_set_times: async (fd: number, flags: number, p: number, l: number, atim: bigint, mtim: bigint, fst: number) => {
        const dir = dirOf(ctx, fd);
        const path = readPath(mem, p, l);
        checkFstflags(fst);
        writable(dir);
        need(dir, Rights.PATH_FILESTAT_SET_TIMES);
        return sandboxed(ctx, [dir], async () => {
          const r = await resolve(dir, path, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
          if (!r.stat) fail(Errno.NOENT);
          // After resolve() the final component is only a symlink when not following: lutimes is right for both.
          const host = r.host;
          await times.setTimes({ stat: () => lstat(host, { bigint: true }), utimes: (a, m) => lutimes(host, a, m) }, atim, mtim, fst);
          return Errno.SUCCESS;
        });
      },

      path_link: async (oldFd: number, oldFlags: number, op: number, ol: number, newFd: number, np: number, nl: number) => {
        const from = dirOf(ctx, oldFd);
        const to = dirOf(ctx, newFd);
        const oldPath = readPath(mem, op, ol);
        const newPath = readPath(mem, np, nl);
        writable(from);
        writable(to);
        need(from, Rights.PATH_LINK_SOURCE);
        need(to, Rights.PATH_LINK_TARGET);
        return sandboxed(ctx, [from, to], async () => {
          const src = named(await resolve(from, oldPath, (oldFlags & LOOKUP_SYMLINK_FOLLOW) !== 0), Errno.PERM);
          if (!src.stat) fail(Errno.NOENT);
          const dst = named(await resolve(to, newPath, false), Errno.EXIST);
          await link(kernelPath(src), kernelPath(dst));
          return Errno.SUCCESS;
        });
      },

      path_readlink: async (fd: number, p: number, l: number, buf: number, bufLen: number, out: number) => {
        const dir = dirOf(ctx, fd);
        const path = readPath(mem, p, l);
        need(dir, Rights.PATH_READLINK);
        mem.bytes(out, 4);
        const target = await sandboxed(ctx, [dir], async () => {
          const r = await resolve(dir, path, false);
          if (!r.stat) fail(Errno.NOENT);
          if (!r.stat.isSymbolicLink()) fail(Errno.INVAL);
          return await readlink(r.host, { encoding: "buffer" });
        });
        const n = Math.min(target.byteLength, bufLen >>> 0);
        mem.write(buf, target.subarray(0, n));
        mem.setU32(out, n);
        return Errno.SUCCESS;
      },

      path_remove_directory: async (fd: number, p: number, l: number) => {
        const dir = dirOf(ctx, fd);
        const path = readPath(mem, p, l);
        writable(dir);
        need(dir, Rights.PATH_REMOVE_DIRECTORY);
        return sandboxed(ctx, [dir], async () => {
          const r = named(await resolve(dir, path, false), Errno.INVAL);
          await rmdir(kernelPath(r));
          return Errno.SUCCESS;
        });
      },

      path_rename: async (fd: number, op: number, ol: number, newFd: number, np: number, nl: number) => {
        const from = dirOf(ctx, fd);
        const to = dirOf(ctx, newFd);
        const oldPath = readPath(mem, op, ol);
        const newPath = readPath(mem, np, nl);
        writable(from);
        writable(to);
        need(from, Rights.PATH_RENAME_SOURCE);
        need(to, Rights.PATH_RENAME_TARGET);
        return sandboxed(ctx, [from, to], async () => {
          const src = named(await resolve(from, oldPath, false), Errno.INVAL);
          if (!src.stat) fail(Errno.NOENT);
          const dst = named(await resolve(to, newPath, false), Errno.INVAL);
          await rename(kernelPath(src), kernelPath(dst));
          return Errno.SUCCESS;
        });
      },

      path_symlink: async (op: number, ol: number, fd: number, np: number, nl: number) => {
        const dir = dirOf(ctx, fd);
        const target = mem.string(op, ol);
        const newPath = readPath(mem, np, nl);
        writable(dir);
        need(dir, Rights.PATH_SYMLINK);
        return sandboxed(ctx, [dir], async () => {
          const r = named(await resolve(dir, newPath, false), Errno.EXIST);
          // "name/" must name a directory: an existing file is ENOTDIR (Linux would say EEXIST).
          if (r.trailingSlash && r.stat && !r.stat.isDirectory()) fail(Errno.NOTDIR);
          checkLinkTarget(dir, r.parts, target);
          await symlink(target, kernelPath(r));
          return Errno.SUCCESS;
        });
      },

      path_unlink_file: async (fd: number, p: number, l: number) => {
        const dir = dirOf(ctx, fd);
        const path = readPath(mem, p, l);
        writable(dir);
        need(dir, Rights.PATH_UNLINK_FILE);
        return sandboxed(ctx, [dir], async () => {
          const r = named(await resolve(dir, path, false), Errno.ISDIR);
          await unlink(kernelPath(r));
          return Errno.SUCCESS;
        });
      },
    },
  };
}
