// path_open: the one place new descriptors come from. Rights of the new
// descriptor are what was asked for, cut down to the parent's inheriting set
// and to what the file type can hold. The path is resolved and checked (and
// nothing created) before the host file is opened, under the mount's lock.

import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { Fdflags, FDFLAGS_ALL, LOOKUP_SYMLINK_FOLLOW, Oflags, OFLAGS_ALL } from "./constants.ts";
import { childDir, resolve } from "../sandbox/paths.ts";
import { type Ctx, need, sandboxed } from "./context.ts";
import { Errno, fail } from "./errno.ts";
import type { DirEntry, FileEntry } from "./fdtable.ts";
import { readPath } from "./memory.ts";
import { DIR_RIGHTS, FILE_RIGHTS, READ_ACCESS, Rights, WRITE_ACCESS } from "./rights.ts";

export async function pathOpen(
  ctx: Ctx,
  fd: number,
  dirflags: number,
  pathPtr: number,
  pathLen: number,
  oflags: number,
  base: bigint,
  inheriting: bigint,
  fdflags: number,
  outPtr: number,
): Promise<number> {
  const dir = ctx.fds.get(fd);
  if (dir.kind !== "dir") fail(Errno.NOTDIR);
  if ((oflags & ~OFLAGS_ALL) !== 0 || (fdflags & ~FDFLAGS_ALL) !== 0) fail(Errno.INVAL);
  ctx.mem.bytes(outPtr, 4);
  if (ctx.fds.full) fail(Errno.MFILE);
  const path = readPath(ctx.mem, pathPtr, pathLen);
  const creat = (oflags & Oflags.CREAT) !== 0;
  const trunc = (oflags & Oflags.TRUNC) !== 0;
  const wantsWrite = (base & WRITE_ACCESS) !== 0n;
  if (dir.mount.readOnly && (creat || trunc || wantsWrite)) fail(Errno.ROFS);
  let required = Rights.PATH_OPEN;
  if (creat) required |= Rights.PATH_CREATE_FILE;
  if (trunc) required |= Rights.PATH_FILESTAT_SET_SIZE;
  need(dir, required);

  const inherit = inheriting & dir.rightsInheriting;
  const opened = await sandboxed(ctx, [dir], async () => {
    const r = await resolve(dir, path, (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    const st = r.stat;
    if (st && creat && (oflags & Oflags.EXCL)) fail(Errno.EXIST);
    // Only reachable when not following: O_NOFOLLOW semantics.
    if (st?.isSymbolicLink()) fail(oflags & Oflags.DIRECTORY ? Errno.NOTDIR : Errno.LOOP);

    if (st?.isDirectory()) {
      if (wantsWrite || trunc || creat) fail(Errno.ISDIR);
      return { kind: "dir" as const, dir: childDir(dir, r) };
    }

    if (st && ((oflags & Oflags.DIRECTORY) || r.trailingSlash)) fail(Errno.NOTDIR);
    if (!st) {
      if (!creat) fail(Errno.NOENT);
      if (oflags & Oflags.DIRECTORY) fail(Errno.INVAL);
      if (r.trailingSlash) fail(Errno.ISDIR);
    }
    const rights = base & dir.rightsInheriting & FILE_RIGHTS;
    const read = (rights & READ_ACCESS) !== 0n;
    const write = (rights & WRITE_ACCESS) !== 0n;
    let flags = write ? (read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    // Symlinks were expanded by resolve(); the kernel must not follow anything it finds now.
    flags |= constants.O_NOFOLLOW;
    if (creat) flags |= constants.O_CREAT;
    if (oflags & Oflags.EXCL) flags |= constants.O_EXCL;
    if (trunc) flags |= constants.O_TRUNC;
    // A FIFO would hold a libuv worker (and the mount's lock) until a peer shows up; never block in open().
    if (st && !st.isFile()) flags |= constants.O_NONBLOCK;
    if (fdflags & (Fdflags.SYNC | Fdflags.RSYNC)) flags |= constants.O_SYNC;
    else if (fdflags & Fdflags.DSYNC) flags |= constants.O_DSYNC;
    const handle = await open(r.host, flags, 0o666);
    try {
      if ((await handle.stat({ bigint: true })).isDirectory()) fail(Errno.ISDIR);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    return { kind: "file" as const, handle, rights };
  });

  if (opened.kind === "dir") {
    const entry: DirEntry = {
      kind: "dir",
      ...opened.dir,
      preopen: false,
      rightsBase: base & dir.rightsInheriting & DIR_RIGHTS,
      rightsInheriting: inherit,
      flags: fdflags,
    };
    ctx.mem.setU32(outPtr, ctx.fds.add(entry));
    return Errno.SUCCESS;
  }
  const { handle, rights } = opened;
  const entry: FileEntry = {
    kind: "file",
    handle,
    mount: dir.mount,
    position: 0n,
    rightsBase: rights,
    rightsInheriting: inherit,
    flags: fdflags,
  };
  ctx.mem.setU32(outPtr, ctx.fds.add(entry));
  return Errno.SUCCESS;
}
