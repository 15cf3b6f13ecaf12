// How many worker threads each process host gets (section 8): `workers: N | auto`
// on the host, WIPPY_WORKERS for hosts that do not say.

import { availableParallelism } from "node:os";
import type { ProcessHost } from "../process/host.ts";
import type { Registry } from "../registry/types.ts";
import { WorkerPool, type PoolContext } from "./pool.ts";

/**
 * A host's `workers` as a number of threads: `auto` is one per core. A host that
 * does not say takes WIPPY_WORKERS when it is set (`npm run test:workers` runs the
 * process suites a second time on worker threads this way), else 0: the main thread.
 */
export function workerCount(workers: number | "auto" | undefined, env: Record<string, string | undefined> = process.env): number {
  const given = workers ?? env.WIPPY_WORKERS;
  if (given === undefined || given === "") return 0;
  if (given === "auto") return availableParallelism();
  const n = Number(given);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`WIPPY_WORKERS must be a whole number of worker threads or auto, got ${JSON.stringify(given)}`);
  return n;
}

/**
 * Starts the workers of every host that names `workers` and waits until they have
 * loaded, so that no spawn waits for a thread to boot. Hosts that take theirs from
 * WIPPY_WORKERS start them at their first spawn: a test pass should not boot threads
 * for every host of every runtime it opens.
 */
export async function startNamedPools(registry: Registry, pools: ReadonlyMap<string, WorkerPool>): Promise<void> {
  await Promise.all([...pools].map(([id, pool]) => {
    const e = registry.entries.get(id);
    return e?.kind === "process.host" && e.workers !== undefined ? pool.startThreads() : undefined;
  }));
}

/** A pool for every host with workers (threads start when the runtime opens, or at the host's first spawn). */
export function workerPools(registry: Registry, hosts: ReadonlyMap<string, ProcessHost>, ctx: PoolContext): Map<string, WorkerPool> {
  const pools = new Map<string, WorkerPool>();
  for (const e of registry.entries.values()) {
    if (e.kind !== "process.host") continue;
    const n = workerCount(e.workers);
    if (n > 0) pools.set(e.id, new WorkerPool(hosts.get(e.id)!, n, ctx));
  }
  return pools;
}
