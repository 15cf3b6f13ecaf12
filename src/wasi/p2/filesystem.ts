// wasi:filesystem — preopens from the process's mounts, descriptors on
// node:fs/promises. Every path operation goes through the shared sandbox
// (../sandbox/paths.ts) holding its mount's folder lock; a read-only mount
// refuses every change before anything reaches the disk.

import { constants, type Dirent } from "node:fs";
import { link, lutimes, mkdir, open, readdir, readlink, rename, rmdir, stat, symlink, unlink, utimes, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { checkLinkTarget, childDir, dirPath, guestMounts, inSandbox, kernelPath, resolve, type Mount, type Resolved, type SandboxDir } from "../sandbox/paths.ts";
import type { HostContext } from "./context.ts";
import { descriptorStat, descriptorType, errorCode, isErrorCode, timestampSeconds, type NewTimestamp } from "./fs-codes.ts";
import { InputStream, IoError, OutputStream, Reader, type ByteSink, type ByteSource } from "./io.ts";

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

/** A path naming something to create or remove: "." and ".." (and the directory itself) name nothing. */
function named(r: Resolved, code: string): Resolved {
  if (r.dotFinal || r.parts.length === 0) throw code;
  return r;
}

export class Descriptor {
  readonly #ctx: HostContext;
  readonly #mount: Mount;
  /** Directories only: where it is beneath the mount, and who it was when opened. */
  readonly #dir: SandboxDir | undefined;
  /** Host path at open, for isSameObject only (a file may have moved since). */
  readonly #openedAt: string;
  readonly #flags: DescriptorFlags;
  readonly #type: string;
  /** Open files only. */
  #fh: FileHandle | undefined;
  #unregister: (() => void) | undefined;

  constructor(ctx: HostContext, place: SandboxDir, flags: DescriptorFlags, type: string, fh?: FileHandle) {
    this.#ctx = ctx;
    this.#mount = place.mount;
    this.#dir = type === "directory" ? place : undefined;
    this.#openedAt = join(place.mount.host, ...place.rel);
    this.#flags = flags;
    this.#type = type;
    if (fh) {
      this.#fh = fh;
      this.#unregister = ctx.onClose(() => void fh.close().catch(() => {}));
    }
  }

  #file(need: "read" | "write"): FileHandle {
    if (this.#type === "directory") throw "is-directory";
    if (!this.#fh) throw "bad-descriptor";
    if (need === "write" && this.#mount.readOnly) throw "read-only";
    if (!this.#flags[need]) throw "bad-descriptor";
    return this.#fh;
  }

  #place(): SandboxDir {
    if (!this.#dir) throw "not-directory";
    return this.#dir;
  }

  /** For a change below this directory. */
  #mutable(): SandboxDir {
    const dir = this.#place();
    if (this.#mount.readOnly) throw "read-only";
    return dir;
  }

  /** Runs a path operation as a host wait, holding the folder lock of every directory's mount. */
  #sandboxed<T>(dirs: SandboxDir[], op: () => Promise<T>): Promise<T> {
    return fsWait(this.#ctx, () => inSandbox(dirs, this.#ctx.signal, op));
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
    const fh = this.#fh;
    if (fh) {
      await fsWait(this.#ctx, async () => {
        const st = await fh.stat({ bigint: true });
        await fh.utimes(timestampSeconds(atime, st.atimeNs), timestampSeconds(mtime, st.mtimeNs));
      });
      return;
    }
    const dir = this.#place();
    await this.#sandboxed([dir], async () => {
      const host = await dirPath(dir);
      const st = await stat(host, { bigint: true });
      await utimes(host, timestampSeconds(atime, st.atimeNs), timestampSeconds(mtime, st.mtimeNs));
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
    const dir = this.#place();
    const entries = await this.#sandboxed([dir], async () => readdir(await dirPath(dir), { withFileTypes: true }));
    return new DirectoryEntryStream(entries);
  }

  async createDirectoryAt(path: string): Promise<void> {
    const dir = this.#mutable();
    await this.#sandboxed([dir], async () => {
      const r = named(await resolve(dir, path, false), "exist");
      await mkdir(r.host);
    });
  }

  /** stat of the open file, or of this directory (verified first). */
  async #statSelf() {
    const fh = this.#fh;
    if (fh) return fsWait(this.#ctx, () => fh.stat({ bigint: true }));
    const dir = this.#place();
    return this.#sandboxed([dir], async () => stat(await dirPath(dir), { bigint: true }));
  }

  /** lstat of what `path` names beneath this directory (the final link followed with symlinkFollow). */
  #statAt(flags: PathFlags, path: string) {
    const dir = this.#place();
    return this.#sandboxed([dir], async () => {
      const r = await resolve(dir, path, !!flags.symlinkFollow);
      if (!r.stat) throw "no-entry";
      if (r.trailingSlash && !r.stat.isDirectory()) throw "not-directory";
      return r.stat;
    });
  }

  async stat(): Promise<ReturnType<typeof descriptorStat>> {
    return descriptorStat(await this.#statSelf());
  }

  async statAt(flags: PathFlags, path: string): Promise<ReturnType<typeof descriptorStat>> {
    return descriptorStat(await this.#statAt(flags, path));
  }

  async setTimesAt(flags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
    const dir = this.#mutable();
    await this.#sandboxed([dir], async () => {
      const r = await resolve(dir, path, !!flags.symlinkFollow);
      if (!r.stat) throw "no-entry";
      // The final component is a symlink only when not following: lutimes is right for both.
      await lutimes(r.host, timestampSeconds(atime, r.stat.atimeNs), timestampSeconds(mtime, r.stat.mtimeNs));
    });
  }

  async linkAt(oldFlags: PathFlags, oldPath: string, newDir: Descriptor, newPath: string): Promise<void> {
    const from = this.#mutable();
    const to = newDir.#mutable();
    await this.#sandboxed([from, to], async () => {
      const src = named(await resolve(from, oldPath, !!oldFlags.symlinkFollow), "not-permitted");
      if (!src.stat) throw "no-entry";
      const dst = named(await resolve(to, newPath, false), "exist");
      await link(kernelPath(src), kernelPath(dst));
    });
  }

  async openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Promise<Descriptor> {
    const dir = this.#place();
    const changes = openFlags.create || openFlags.truncate || flags.write || flags.mutateDirectory;
    if (changes && this.#mount.readOnly) throw "read-only";
    if (flags.requestedWriteSync || flags.fileIntegritySync || flags.dataIntegritySync) throw "unsupported";
    return this.#sandboxed([dir], async () => {
      // Resolved and checked before anything is created.
      const r = await resolve(dir, path, !!pathFlags.symlinkFollow);
      const st = r.stat;
      if (st && openFlags.create && openFlags.exclusive) throw "exist";
      if (!st && !openFlags.create) throw "no-entry";
      if (st?.isSymbolicLink()) throw openFlags.directory ? "not-directory" : "loop";
      if (st?.isDirectory()) {
        if (flags.write || openFlags.truncate) throw "is-directory";
        return new Descriptor(this.#ctx, childDir(dir, r), flags, "directory");
      }
      if (openFlags.directory || r.trailingSlash) throw st ? "not-directory" : "no-entry";
      let mode = flags.write ? (flags.read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
      if (openFlags.create) mode |= constants.O_CREAT;
      if (openFlags.exclusive) mode |= constants.O_EXCL;
      if (openFlags.truncate) mode |= constants.O_TRUNC;
      // A FIFO would hold a libuv worker (and the mount's lock) until a peer shows up; never block in open().
      if (st && !st.isFile()) mode |= constants.O_NONBLOCK;
      // Nothing on the resolved path is a symlink; O_NOFOLLOW keeps it that way.
      const fh = await open(r.host, mode | constants.O_NOFOLLOW, 0o666);
      const type = st ? descriptorType(st) : "regular-file";
      return new Descriptor(this.#ctx, { mount: dir.mount, rel: [...dir.rel, ...r.parts], id: null }, flags, type, fh);
    });
  }

  async readlinkAt(path: string): Promise<string> {
    const dir = this.#place();
    return this.#sandboxed([dir], async () => {
      const r = await resolve(dir, path, false);
      if (!r.stat) throw "no-entry";
      if (!r.stat.isSymbolicLink()) throw "invalid";
      return readlink(r.host);
    });
  }

  async removeDirectoryAt(path: string): Promise<void> {
    const dir = this.#mutable();
    await this.#sandboxed([dir], async () => {
      const r = named(await resolve(dir, path, false), "invalid");
      await rmdir(kernelPath(r));
    });
  }

  async renameAt(oldPath: string, newDir: Descriptor, newPath: string): Promise<void> {
    const from = this.#mutable();
    const to = newDir.#mutable();
    await this.#sandboxed([from, to], async () => {
      const src = named(await resolve(from, oldPath, false), "invalid");
      if (!src.stat) throw "no-entry";
      const dst = named(await resolve(to, newPath, false), "invalid");
      await rename(kernelPath(src), kernelPath(dst));
    });
  }

  async symlinkAt(target: string, path: string): Promise<void> {
    const dir = this.#mutable();
    await this.#sandboxed([dir], async () => {
      const r = named(await resolve(dir, path, false), "exist");
      // A link that points out of the mount would be refused when followed; refuse making it at all.
      checkLinkTarget(dir, r.parts, target);
      await symlink(target, kernelPath(r));
    });
  }

  async unlinkFileAt(path: string): Promise<void> {
    const dir = this.#mutable();
    await this.#sandboxed([dir], async () => {
      const r = await resolve(dir, path, false);
      if (!r.stat) throw "no-entry";
      if (r.stat.isDirectory()) throw "is-directory";
      await unlink(kernelPath(r));
    });
  }

  isSameObject(other: Descriptor): boolean {
    return other.#openedAt === this.#openedAt;
  }

  async metadataHash(): Promise<{ upper: bigint; lower: bigint }> {
    const st = await this.#statSelf();
    return { upper: st.dev, lower: st.ino };
  }

  async metadataHashAt(flags: PathFlags, path: string): Promise<{ upper: bigint; lower: bigint }> {
    const st = await this.#statAt(flags, path);
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
  const mounts = guestMounts(ctx.io.mounts, ctx.io.cwd);
  return {
    "wasi:filesystem/preopens": {
      // Fresh descriptors per call, so each handle the guest gets is its own to drop.
      getDirectories: () =>
        mounts.map((m) => [
          new Descriptor(ctx, { mount: m, rel: [], id: null }, m.readOnly ? { read: true } : { read: true, mutateDirectory: true }, "directory"),
          m.guest,
        ]),
    },
    "wasi:filesystem/types": {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (err: IoError) => (isErrorCode(err.code) ? err.code : undefined),
    },
  };
}
