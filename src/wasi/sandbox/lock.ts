// One lock per host folder, so that a path check and the operation it guards
// are atomic with respect to every other process of this runtime. Node has no
// openat(): between "this path stays inside the mount" and "unlink this path"
// another guest could swap a directory for a symlink, unless both wait here.
//
// A claim names the real host folders of the mounts it works in. Two claims
// conflict when any of their folders overlap (one is the other or lies inside
// it), so mounts that overlap on the host share the lock without anyone having
// to register them first; disjoint mounts run side by side. Claims start in
// arrival order among those they conflict with (no starvation).
//
// The claims are the main thread's state. A worker thread delegates its claims
// to the main thread's table (src/threads/worker.ts), so the lock spans threads.

import { sep } from "node:path";

interface Claim {
  /** Real host folders, each ending in the path separator. */
  folders: string[];
  grant: () => void;
}

const withSep = (folder: string): string => (folder.endsWith(sep) ? folder : folder + sep);

const overlaps = (a: Claim, b: Claim): boolean =>
  a.folders.some((x) => b.folders.some((y) => x.startsWith(y) || y.startsWith(x)));

type RunHolding = <T>(folders: readonly string[], signal: AbortSignal | undefined, op: () => Promise<T>) => Promise<T>;

export class FolderLocks {
  readonly #running = new Set<Claim>();
  readonly #queued: Claim[] = [];
  #elsewhere: RunHolding | undefined;

  /** From now on claims are made by `run` (a worker thread asks the main thread's table). */
  delegate(run: RunHolding): void {
    this.#elsewhere = run;
  }

  /**
   * Runs `op` while no other claim on an overlapping folder runs. A claim still
   * queued when `signal` aborts is dropped: a process that ended never acts later.
   */
  async run<T>(folders: readonly string[], signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    if (this.#elsewhere) return this.#elsewhere(folders, signal, op);
    signal?.throwIfAborted();
    const claim: Claim = { folders: folders.map(withSep), grant: () => {} };
    if (this.#mayStart(claim, this.#queued.length)) this.#running.add(claim);
    else await this.#wait(claim, signal);
    try {
      return await op();
    } finally {
      this.#running.delete(claim);
      this.#pump();
    }
  }

  /** No running claim and no claim queued before position `before` overlaps it. */
  #mayStart(claim: Claim, before: number): boolean {
    for (const other of this.#running) if (overlaps(claim, other)) return false;
    for (let i = 0; i < before; i++) if (overlaps(claim, this.#queued[i]!)) return false;
    return true;
  }

  #wait(claim: Claim, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#queued.indexOf(claim);
        if (at < 0) return;
        this.#queued.splice(at, 1);
        reject(signal!.reason);
        this.#pump();
      };
      claim.grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queued.push(claim);
    });
  }

  #pump(): void {
    for (let i = 0; i < this.#queued.length; ) {
      const claim = this.#queued[i]!;
      if (!this.#mayStart(claim, i)) {
        i++;
        continue;
      }
      this.#queued.splice(i, 1);
      this.#running.add(claim);
      claim.grant();
    }
  }
}

/** The runtime's one table of folder locks (every process, both WASI layers). */
export const folderLocks = new FolderLocks();
