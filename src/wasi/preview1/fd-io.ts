// fd_* functions that move bytes: read/write (positional and at the guest's
// own offset), seek/tell, sizes and syncing. Stdio answers synchronously unless the
// sink is full; host files go through their FileHandle (async, so the import suspends).

import { ADVICE_MAX, Fdflags, Whence } from "./constants.ts";
import { abortable, type Ctx, type FnGroup, need, writable } from "./context.ts";
import { Errno, fail } from "./errno.ts";
import type { Entry, FileEntry } from "./fdtable.ts";
import type { Iovec } from "./memory.ts";
import { Rights } from "./rights.ts";
import type { OutputQueue } from "../output-queue.ts";

// One call never moves more than this; a shorter count is a valid answer.
const MAX_IO = 16 * 1024 * 1024;

function totalLen(iovs: Iovec[]): number {
  let n = 0;
  for (const iov of iovs) n += iov.len;
  return Math.min(n, MAX_IO);
}

function isStdio(entry: Entry): boolean {
  return entry.kind === "stdin" || entry.kind === "stdout" || entry.kind === "stderr";
}

/** The file behind an fd for byte I/O: directories are EISDIR, stdio ESPIPE where positions matter. */
function fileOf(entry: Entry): FileEntry {
  if (entry.kind === "file") return entry;
  if (entry.kind === "dir") return fail(Errno.ISDIR);
  return fail(Errno.SPIPE);
}

async function readAt(ctx: Ctx, file: FileEntry, iovs: Iovec[], position: bigint): Promise<number> {
  if (position < 0n) fail(Errno.INVAL);
  const buf = new Uint8Array(totalLen(iovs));
  const { bytesRead } = await file.handle.read(buf, 0, buf.byteLength, position);
  return ctx.mem.scatter(iovs, buf.subarray(0, bytesRead));
}

async function writeAt(file: FileEntry, data: Uint8Array, position: bigint): Promise<number> {
  // node:fs takes write positions as numbers only (a bigint would silently mean "current position").
  if (position < 0n) fail(Errno.INVAL);
  if (position + BigInt(data.byteLength) > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.FBIG);
  const at = Number(position);
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await file.handle.write(data, done, data.byteLength - done, at + done);
    if (bytesWritten === 0) break;
    done += bytesWritten;
  }
  return done;
}

async function sizeOf(file: FileEntry): Promise<bigint> {
  return (await file.handle.stat({ bigint: true })).size;
}

export function fdIoFunctions(ctx: Ctx): FnGroup {
  const { mem, fds, io } = ctx;

  const stdinRead = (entry: Entry, iovs: Iovec[], out: number): number | Promise<number> => {
    const finish = (): number => {
      const n = mem.scatter(iovs, ctx.stdin.take(totalLen(iovs)));
      mem.setU32(out, n);
      return Errno.SUCCESS;
    };
    if (ctx.stdin.ready || totalLen(iovs) === 0) return finish();
    if (entry.flags & Fdflags.NONBLOCK) {
      ctx.stdin.prefetch();
      return Errno.AGAIN;
    }
    return abortable(ctx.stdin.wait(), io.signal).then(finish);
  };

  // The guest waits while its sink is full: the import suspends, as any blocking call.
  // (Every export that reaches these imports runs under WebAssembly.promising, _initialize
  // included: a suspending import called outside of it traps, whatever it returns.)
  const stdioWrite = (queue: OutputQueue, data: Uint8Array, out: number): number | Promise<number> => {
    const done = (): number => {
      if (queue.error !== undefined) return Errno.IO;
      mem.setU32(out, data.byteLength);
      return Errno.SUCCESS;
    };
    if (queue.error !== undefined) return Errno.IO;
    const delivered = queue.write(data);
    return delivered ? abortable(delivered, io.signal).then(done) : done();
  };

  return {
    suspending: {
      fd_read: (fd: number, iovsPtr: number, iovsLen: number, out: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_READ);
        const iovs = mem.iovecs(iovsPtr, iovsLen);
        mem.bytes(out, 4);
        if (entry.kind === "stdin") return stdinRead(entry, iovs, out);
        const file = fileOf(entry);
        return readAt(ctx, file, iovs, file.position).then((n) => {
          file.position += BigInt(n);
          mem.setU32(out, n);
          return Errno.SUCCESS;
        });
      },

      fd_pread: async (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, out: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_READ | Rights.FD_SEEK);
        const file = fileOf(entry);
        const iovs = mem.iovecs(iovsPtr, iovsLen);
        mem.bytes(out, 4);
        mem.setU32(out, await readAt(ctx, file, iovs, BigInt.asUintN(64, offset)));
        return Errno.SUCCESS;
      },

      fd_write: (fd: number, iovsPtr: number, iovsLen: number, out: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_WRITE);
        const data = mem.gather(mem.iovecs(iovsPtr, iovsLen), MAX_IO);
        mem.bytes(out, 4);
        if (entry.kind === "stdout" || entry.kind === "stderr") return stdioWrite(ctx.output[entry.kind], data, out);
        const file = fileOf(entry);
        writable(file);
        return (async () => {
          // Append is emulated (the host file is never O_APPEND) so fd_fdstat_set_flags can toggle it.
          if (file.flags & Fdflags.APPEND) file.position = await sizeOf(file);
          const n = await writeAt(file, data, file.position);
          file.position += BigInt(n);
          mem.setU32(out, n);
          return Errno.SUCCESS;
        })();
      },

      fd_pwrite: async (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, out: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_WRITE | Rights.FD_SEEK);
        const file = fileOf(entry);
        writable(file);
        const data = mem.gather(mem.iovecs(iovsPtr, iovsLen), MAX_IO);
        mem.bytes(out, 4);
        // POSIX: pwrite writes at the offset even in append mode (Linux differs; the suite accepts both).
        mem.setU32(out, await writeAt(file, data, BigInt.asUintN(64, offset)));
        return Errno.SUCCESS;
      },

      fd_seek: async (fd: number, offset: bigint, whence: number, out: number) => {
        const entry = fds.get(fd);
        if (isStdio(entry)) return Errno.SPIPE;
        // A zero move from the current position is just "tell".
        need(entry, offset === 0n && whence === Whence.CUR ? Rights.FD_TELL : Rights.FD_SEEK);
        const file = fileOf(entry);
        mem.bytes(out, 8);
        let base: bigint;
        if (whence === Whence.SET) base = 0n;
        else if (whence === Whence.CUR) base = file.position;
        else if (whence === Whence.END) base = await sizeOf(file);
        else return Errno.INVAL;
        const next = base + offset;
        if (next < 0n || next > BigInt(Number.MAX_SAFE_INTEGER)) return Errno.INVAL;
        file.position = next;
        mem.setU64(out, next);
        return Errno.SUCCESS;
      },

      fd_allocate: async (fd: number, offset: bigint, len: bigint) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_ALLOCATE);
        const file = fileOf(entry);
        writable(file);
        // u64 arguments arrive as signed i64.
        offset = BigInt.asUintN(64, offset);
        len = BigInt.asUintN(64, len);
        const end = offset + len;
        if (end > BigInt(Number.MAX_SAFE_INTEGER)) return Errno.FBIG;
        // No fallocate in node:fs: growing the file gives the same size guarantee.
        if ((await sizeOf(file)) < end) await file.handle.truncate(Number(end));
        return Errno.SUCCESS;
      },

      fd_filestat_set_size: async (fd: number, size: bigint) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_FILESTAT_SET_SIZE);
        const file = fileOf(entry);
        writable(file);
        size = BigInt.asUintN(64, size);
        if (size > BigInt(Number.MAX_SAFE_INTEGER)) return Errno.FBIG;
        await file.handle.truncate(Number(size));
        return Errno.SUCCESS;
      },

      fd_sync: async (fd: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_SYNC);
        if (entry.kind === "file") await entry.handle.sync();
        else if (isStdio(entry)) return Errno.INVAL;
        return Errno.SUCCESS;
      },

      fd_datasync: async (fd: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_DATASYNC);
        if (entry.kind === "file") await entry.handle.datasync();
        else if (isStdio(entry)) return Errno.INVAL;
        return Errno.SUCCESS;
      },
    },
    sync: {
      fd_tell: (fd: number, out: number) => {
        const entry = fds.get(fd);
        if (isStdio(entry)) return Errno.SPIPE;
        need(entry, Rights.FD_TELL);
        mem.setU64(out, fileOf(entry).position);
        return Errno.SUCCESS;
      },

      fd_advise: (fd: number, _offset: bigint, _len: bigint, advice: number) => {
        const entry = fds.get(fd);
        need(entry, Rights.FD_ADVISE);
        if (isStdio(entry)) return Errno.SPIPE;
        if (advice < 0 || advice > ADVICE_MAX) return Errno.INVAL;
        // Advice is only a hint; node:fs has no posix_fadvise.
        return Errno.SUCCESS;
      },
    },
  };
}
