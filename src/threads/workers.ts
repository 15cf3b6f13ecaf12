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

/** Starts every host's workers and waits until they have loaded (or stopped trying). */
export async function startPools(pools: ReadonlyMap<string, WorkerPool>): Promise<void> {
  await Promise.all([...pools.values()].map((pool) => pool.startThreads()));
}

/** A pool for every host with workers (its threads start when the runtime opens). */
export function workerPools(registry: Registry, hosts: ReadonlyMap<string, ProcessHost>, ctx: PoolContext): Map<string, WorkerPool> {
  const pools = new Map<string, WorkerPool>();
  for (const e of registry.entries.values()) {
    if (e.kind !== "process.host") continue;
    const n = workerCount(e.workers);
    if (n > 0) pools.set(e.id, new WorkerPool(hosts.get(e.id)!, n, ctx));
  }
  return pools;
}
