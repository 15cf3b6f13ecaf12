// The guest's descriptor table: what each fd number stands for on the host.
// Stdio entries wrap the process's streams; files own one node:fs FileHandle;
// directories are a place beneath a mount (every path op re-verifies and
// re-resolves it through ../sandbox/paths.ts).

import type { FileHandle } from "node:fs/promises";
import type { Mount, SandboxDir } from "../sandbox/paths.ts";
import { Errno, fail } from "./errno.ts";

interface EntryBase {
  rightsBase: bigint;
  rightsInheriting: bigint;
  /** fdflags as last set (append, nonblock, sync family). */
  flags: number;
}

export interface StdioEntry extends EntryBase {
  kind: "stdin" | "stdout" | "stderr";
}

export interface FileEntry extends EntryBase {
  kind: "file";
  handle: FileHandle;
  mount: Mount;
  /** The guest's own offset: reads and writes are positional so append can be toggled. */
  position: bigint;
}

export interface DirListingEntry {
  name: Uint8Array;
  ino: bigint;
  type: number;
}

export interface DirEntry extends EntryBase, SandboxDir {
  kind: "dir";
  /** Set on the descriptors the guest got at start (they answer fd_prestat_get). */
  preopen: boolean;
  /** Snapshot taken at readdir cookie 0, so later cookies stay stable. */
  listing?: DirListingEntry[];
}

export type Entry = StdioEntry | FileEntry | DirEntry;

const MAX_FDS = 1024;
const CLOSED = Promise.resolve();

export class FdTable {
  readonly #entries = new Map<number, Entry>();

  get(fd: number): Entry {
    const entry = this.#entries.get(fd >>> 0);
    if (!entry) return fail(Errno.BADF);
    return entry;
  }

  has(fd: number): boolean {
    return this.#entries.has(fd >>> 0);
  }

  set(fd: number, entry: Entry): void {
    this.#entries.set(fd >>> 0, entry);
  }

  /** No room for another descriptor (checked before a host file is opened). */
  get full(): boolean {
    return this.#entries.size >= MAX_FDS;
  }

  /** Lowest free number from 3 up: stdio numbers are never handed out again implicitly. */
  add(entry: Entry): number {
    // One process must not exhaust the whole runtime's host descriptors.
    if (this.full) fail(Errno.MFILE);
    let fd = 3;
    while (this.#entries.has(fd)) fd++;
    this.#entries.set(fd, entry);
    return fd;
  }

  /** Removes the entry and releases its host handle. */
  async close(fd: number): Promise<void> {
    const entry = this.get(fd);
    this.#entries.delete(fd >>> 0);
    if (entry.kind === "file") await entry.handle.close();
  }

  /** Moves `from` onto `to` (which must be open), closing what `to` held. */
  async renumber(from: number, to: number): Promise<void> {
    const entry = this.get(from);
    const target = this.get(to);
    if (from >>> 0 === to >>> 0) return;
    this.#entries.delete(from >>> 0);
    this.#entries.set(to >>> 0, entry);
    if (target.kind === "file") await target.handle.close().catch(() => undefined);
  }

  closeAll(): Promise<void> {
    const handles: FileHandle[] = [];
    for (const entry of this.#entries.values()) if (entry.kind === "file") handles.push(entry.handle);
    this.#entries.clear();
    // most processes never open a file: they end without a Promise of their own here
    return handles.length === 0 ? CLOSED : Promise.allSettled(handles.map((h) => h.close())).then(() => undefined);
  }
}
