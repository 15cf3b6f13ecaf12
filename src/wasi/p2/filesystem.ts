// wasi:filesystem — preopens from the process's mounts, descriptors on
// node:fs/promises. Every path resolves inside its mount (fs-sandbox.ts); a
// read-only mount refuses every change before anything reaches the disk.

import { constants, type BigIntStats, type Dirent } from "node:fs";
import { link, lstat, lutimes, mkdir, open, readdir, readlink, rename, rmdir, stat, symlink, unlink, utimes, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { HostContext } from "./context.ts";
import { descriptorStat, descriptorType, errorCode, isErrorCode, linkStaysInside, resolveIn, timestampSeconds, type NewTimestamp } from "./fs-sandbox.ts";
import { InputStream, IoError, OutputStream, Reader, type ByteSink, type ByteSource } from "./io.ts";

interface Mount {
  host: string;
  readOnly: boolean;
}
interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  fileIntegritySync?: boolean;
  dataIntegritySync?: boolean;
  requestedWriteSync?: boolean;
  mutateDirectory?: boolean;
}
interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}

/** Runs a file operation as a host wait, with node errors as error-codes. */
function fsWait<T>(ctx: HostContext, op: () => Promise<T>): Promise<T> {
  return ctx.wait(async () => {
    try {
      return await op();
    } catch (err) {
      throw errorCode(err);
    }
  });
}

/** Node errors from a stream's file as stream errors that filesystem-error-code can read. */
const streamFailure = (err: unknown) => {
  const e = err as { message?: string };
  let code: string | undefined;
  try {
    code = errorCode(err);
  } catch {
    code = undefined;
  }
  return Object.assign(new Error(e.message ?? String(err)), { code });
};

function fileSource(fh: FileHandle, offset: bigint): ByteSource {
  let pos = offset;
  return {
    async pull(max) {
      const buf = new Uint8Array(max);
      const { bytesRead } = await fh.read(buf, 0, max, pos).catch((err: unknown) => {
        throw streamFailure(err);
      });
      if (bytesRead === 0) return null;
      pos += BigInt(bytesRead);
      return buf.subarray(0, bytesRead);
    },
  };
}

/** `offset` undefined: append (at the file's size when the first write lands). */
function fileSink(fh: FileHandle, offset: bigint | undefined): ByteSink {
  let pos = offset;
  return {
    async write(bytes) {
      try {
        pos ??= (await fh.stat({ bigint: true })).size;
        const at = pos;
        pos += BigInt(bytes.length);
        let done = 0;
        while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, Number(at) + done)).bytesWritten;
      } catch (err) {
        throw streamFailure(err);
      }
    },
  };
}

class DirectoryEntryStream {
  readonly #entries: Dirent[];
  constructor(entries: Dirent[]) {
    this.#entries = entries;
  }
  readDirectoryEntry(): { type: string; name: string } | undefined {
    const e = this.#entries.shift();
    return e && { type: descriptorType(e), name: e.name };
  }
}

export class Descriptor {
  readonly #ctx: HostContext;
  readonly #mount: Mount;
  /** Below the mount's root. */
  readonly #segs: string[];
  readonly #flags: DescriptorFlags;
  readonly #type: string;
  /** Open files only; directories are paths. */
  #fh: FileHandle | undefined;
  #unregister: (() => void) | undefined;

  constructor(ctx: HostContext, mount: Mount, segs: string[], flags: DescriptorFlags, type: string, fh?: FileHandle) {
    this.#ctx = ctx;
    this.#mount = mount;
    this.#segs = segs;
    this.#flags = flags;
    this.#type = type;
    if (fh) {
      this.#fh = fh;
      this.#unregister = ctx.onClose(() => void fh.close().catch(() => {}));
    }
  }

  get #path(): string {
    return join(this.#mount.host, ...this.#segs);
  }

  #file(need: "read" | "write"): FileHandle {
    if (this.#type === "directory") throw "is-directory";
    if (!this.#fh) throw "bad-descriptor";
    if (need === "write" && this.#mount.readOnly) throw "read-only";
    if (!this.#flags[need]) throw "bad-descriptor";
    return this.#fh;
  }

  #dir(): void {
    if (this.#type !== "directory") throw "not-directory";
  }

  /** For a change below this directory. */
  #mutable(): void {
    this.#dir();
    if (this.#mount.readOnly) throw "read-only";
  }

  #resolve(path: string, follow: boolean): Promise<string[]> {
    this.#dir();
    return fsWait(this.#ctx, async () => [...this.#segs, ...(await resolveIn(this.#mount.host, this.#segs, path, follow))]);
  }

  #at(segs: string[]): string {
    return join(this.#mount.host, ...segs);
  }

  readViaStream(offset: bigint): InputStream {
    return new InputStream(this.#ctx, new Reader(fileSource(this.#file("read"), offset)), true);
  }

  writeViaStream(offset: bigint): OutputStream {
    return new OutputStream(this.#ctx, fileSink(this.#file("write"), offset));
  }

  appendViaStream(): OutputStream {
    return new OutputStream(this.#ctx, fileSink(this.#file("write"), undefined));
  }

  advise(): void {
    this.#file("read");
  }

  async syncData(): Promise<void> {
    if (this.#fh) await fsWait(this.#ctx, () => (this.#fh as FileHandle).datasync());
  }

  async sync(): Promise<void> {
    if (this.#fh) await fsWait(this.#ctx, () => (this.#fh as FileHandle).sync());
  }

  getFlags(): DescriptorFlags {
    return this.#flags;
  }

  getType(): string {
    return this.#type;
  }

  async setSize(size: bigint): Promise<void> {
    const fh = this.#file("write");
    await fsWait(this.#ctx, () => fh.truncate(Number(size)));
  }

  async setTimes(atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
    if (this.#mount.readOnly) throw "read-only";
    await fsWait(this.#ctx, async () => {
      const st = await stat(this.#path, { bigint: true });
      await utimes(this.#path, timestampSeconds(atime, st.atimeNs), timestampSeconds(mtime, st.mtimeNs));
    });
  }

  async read(length: bigint, offset: bigint): Promise<[Uint8Array, boolean]> {
    const fh = this.#file("read");
    const n = Number(length > 1n << 24n ? 1n << 24n : length);
    const buf = new Uint8Array(n);
    const { bytesRead } = await fsWait(this.#ctx, () => fh.read(buf, 0, n, Number(offset)));
    return [buf.subarray(0, bytesRead), bytesRead < n];
  }

  async write(buffer: Uint8Array, offset: bigint): Promise<bigint> {
    const fh = this.#file("write");
    const { bytesWritten } = await fsWait(this.#ctx, () => fh.write(buffer, 0, buffer.length, Number(offset)));
    return BigInt(bytesWritten);
  }

  async readDirectory(): Promise<DirectoryEntryStream> {
    this.#dir();
    const entries = await fsWait(this.#ctx, () => readdir(this.#path, { withFileTypes: true }));
    return new DirectoryEntryStream(entries);
  }

  async createDirectoryAt(path: string): Promise<void> {
    this.#mutable();
    const segs = await this.#resolve(path, false);
    await fsWait(this.#ctx, () => mkdir(this.#at(segs)));
  }

  async stat(): Promise<ReturnType<typeof descriptorStat>> {
    const fh = this.#fh;
    const st = await fsWait(this.#ctx, () => (fh ? fh.stat({ bigint: true }) : stat(this.#path, { bigint: true })));
    return descriptorStat(st);
  }

  async statAt(flags: PathFlags, path: string): Promise<ReturnType<typeof descriptorStat>> {
    const host = this.#at(await this.#resolve(path, !!flags.symlinkFollow));
    const st = await fsWait(this.#ctx, () => (flags.symlinkFollow ? stat : lstat)(host, { bigint: true }));
    return descriptorStat(st);
  }

  async setTimesAt(flags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
    this.#mutable();
    const host = this.#at(await this.#resolve(path, !!flags.symlinkFollow));
    await fsWait(this.#ctx, async () => {
      const st: BigIntStats = await (flags.symlinkFollow ? stat : lstat)(host, { bigint: true });
      await (flags.symlinkFollow ? utimes : lutimes)(host, timestampSeconds(atime, st.atimeNs), timestampSeconds(mtime, st.mtimeNs));
    });
  }

  async linkAt(oldFlags: PathFlags, oldPath: string, newDir: Descriptor, newPath: string): Promise<void> {
    this.#mutable();
    newDir.#mutable();
    const from = this.#at(await this.#resolve(oldPath, !!oldFlags.symlinkFollow));
    const to = newDir.#at(await newDir.#resolve(newPath, false));
    await fsWait(this.#ctx, () => link(from, to));
  }

  async openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Promise<Descriptor> {
    this.#dir();
    const changes = openFlags.create || openFlags.truncate || flags.write || flags.mutateDirectory;
    if (changes && this.#mount.readOnly) throw "read-only";
    if (flags.requestedWriteSync || flags.fileIntegritySync || flags.dataIntegritySync) throw "unsupported";
    const follow = !!pathFlags.symlinkFollow;
    const segs = await this.#resolve(path, follow);
    const host = this.#at(segs);
    return fsWait(this.#ctx, async () => {
      const st = await (follow ? stat : lstat)(host).catch((err: unknown) => {
        if ((err as { code?: string }).code === "ENOENT") return undefined;
        throw err;
      });
      if (st && openFlags.create && openFlags.exclusive) throw "exist";
      if (!st && !openFlags.create) throw "no-entry";
      if (st?.isSymbolicLink()) throw openFlags.directory ? "not-directory" : "loop";
      if (st?.isDirectory()) {
        if (flags.write || openFlags.truncate) throw "is-directory";
        return new Descriptor(this.#ctx, this.#mount, segs, flags, "directory");
      }
      if (openFlags.directory || path.endsWith("/")) throw st ? "not-directory" : "no-entry";
      let mode = flags.write ? (flags.read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
      if (openFlags.create) mode |= constants.O_CREAT;
      if (openFlags.exclusive) mode |= constants.O_EXCL;
      if (openFlags.truncate) mode |= constants.O_TRUNC;
      // Nothing on the resolved path is a symlink now; O_NOFOLLOW keeps it that way if one appears meanwhile.
      const fh = await open(host, mode | constants.O_NOFOLLOW, 0o666);
      const type = st ? descriptorType(st) : "regular-file";
      return new Descriptor(this.#ctx, this.#mount, segs, flags, type, fh);
    });
  }

  async readlinkAt(path: string): Promise<string> {
    const host = this.#at(await this.#resolve(path, false));
    return fsWait(this.#ctx, () => readlink(host));
  }

  async removeDirectoryAt(path: string): Promise<void> {
    this.#mutable();
    const host = this.#at(await this.#resolve(path, false));
    await fsWait(this.#ctx, () => rmdir(host));
  }

  async renameAt(oldPath: string, newDir: Descriptor, newPath: string): Promise<void> {
    this.#mutable();
    newDir.#mutable();
    const from = this.#at(await this.#resolve(oldPath, false));
    const to = newDir.#at(await newDir.#resolve(newPath, false));
    await fsWait(this.#ctx, () => rename(from, to));
  }

  async symlinkAt(target: string, path: string): Promise<void> {
    this.#mutable();
    const segs = await this.#resolve(path, false);
    // A link that points out of the mount would be refused when followed; refuse making it at all.
    if (!linkStaysInside(segs, target)) throw "not-permitted";
    await fsWait(this.#ctx, () => symlink(target, this.#at(segs)));
  }

  async unlinkFileAt(path: string): Promise<void> {
    this.#mutable();
    const host = this.#at(await this.#resolve(path, false));
    await fsWait(this.#ctx, async () => {
      if ((await lstat(host)).isDirectory()) throw "is-directory";
      await unlink(host);
    });
  }

  isSameObject(other: Descriptor): boolean {
    return other.#mount.host === this.#mount.host && other.#path === this.#path;
  }

  async metadataHash(): Promise<{ upper: bigint; lower: bigint }> {
    const fh = this.#fh;
    const st = await fsWait(this.#ctx, () => (fh ? fh.stat({ bigint: true }) : stat(this.#path, { bigint: true })));
    return { upper: st.dev, lower: st.ino };
  }

  async metadataHashAt(flags: PathFlags, path: string): Promise<{ upper: bigint; lower: bigint }> {
    const host = this.#at(await this.#resolve(path, !!flags.symlinkFollow));
    const st = await fsWait(this.#ctx, () => (flags.symlinkFollow ? stat : lstat)(host, { bigint: true }));
    return { upper: st.dev, lower: st.ino };
  }

  [Symbol.dispose](): void {
    const fh = this.#fh;
    this.#fh = undefined;
    this.#unregister?.();
    void fh?.close().catch(() => {});
  }
}

export function filesystemImports(ctx: HostContext): Record<string, Record<string, unknown>> {
  const mounts = ctx.io.mounts;
  return {
    "wasi:filesystem/preopens": {
      // Fresh descriptors per call, so each handle the guest gets is its own to drop.
      getDirectories: () =>
        mounts.map((m) => [new Descriptor(ctx, m, [], m.readOnly ? { read: true } : { read: true, mutateDirectory: true }, "directory"), m.guest]),
    },
    "wasi:filesystem/types": {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (err: IoError) => (isErrorCode(err.code) ? err.code : undefined),
    },
  };
}
