// clock_* (sync): nanoseconds as BigInt end to end, never through a float.

import { Clockid } from "./constants.ts";
import type { Ctx, FnGroup } from "./context.ts";
import { Errno } from "./errno.ts";

const MS = 1_000_000n;
let wallBase = BigInt(Date.now()) * MS;
let monoBase = process.hrtime.bigint();

/** Wall-clock ns with sub-millisecond resolution, re-anchored when the system clock moves. */
export function realtimeNs(): bigint {
  const mono = process.hrtime.bigint();
  const guess = wallBase + (mono - monoBase);
  const wall = BigInt(Date.now()) * MS;
  const drift = guess - wall;
  if (drift > 2n * MS || drift < -2n * MS) {
    wallBase = wall;
    monoBase = mono;
    return wall;
  }
  return guess;
}

export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

function cpuNs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

/** The clock's current value, or null for an unknown clock id. */
export function clockNow(id: number): bigint | null {
  switch (id) {
    case Clockid.REALTIME:
      return realtimeNs();
    case Clockid.MONOTONIC:
      return monotonicNs();
    case Clockid.PROCESS_CPUTIME_ID:
    case Clockid.THREAD_CPUTIME_ID:
      return cpuNs();
    default:
      return null;
  }
}

const RESOLUTION: Record<number, bigint> = {
  [Clockid.REALTIME]: 1000n,
  [Clockid.MONOTONIC]: 1n,
  [Clockid.PROCESS_CPUTIME_ID]: 1000n,
  [Clockid.THREAD_CPUTIME_ID]: 1000n,
};

export function clockFunctions(ctx: Ctx): FnGroup {
  const { mem } = ctx;
  return {
    sync: {
      clock_res_get: (id: number, out: number) => {
        const res = RESOLUTION[id];
        if (res === undefined) return Errno.INVAL;
        mem.setU64(out, res);
        return Errno.SUCCESS;
      },
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        const now = clockNow(id);
        if (now === null) return Errno.INVAL;
        mem.setU64(out, now);
        return Errno.SUCCESS;
      },
    },
  };
}
