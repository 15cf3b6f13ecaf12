// clock_* (sync): nanoseconds as BigInt end to end, never through a float.

import { Clockid } from "./constants.ts";
import type { Ctx, FnGroup } from "./context.ts";
import { Errno } from "./errno.ts";

const MS = 1_000_000n;

export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

function cpuNs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

/** The clocks a guest reads; the wall clock's anchor belongs to a runtime, never to the module. */
export class Clocks {
  #wallBase = BigInt(Date.now()) * MS;
  #monoBase = process.hrtime.bigint();

  /** Wall-clock ns with sub-millisecond resolution, re-anchored when the system clock moves. */
  realtimeNs(): bigint {
    const mono = process.hrtime.bigint();
    const guess = this.#wallBase + (mono - this.#monoBase);
    const wall = BigInt(Date.now()) * MS;
    const drift = guess - wall;
    if (drift > 2n * MS || drift < -2n * MS) {
      this.#wallBase = wall;
      this.#monoBase = mono;
      return wall;
    }
    return guess;
  }

  /** The clock's current value, or null for an unknown clock id. */
  now(id: number): bigint | null {
    switch (id) {
      case Clockid.REALTIME:
        return this.realtimeNs();
      case Clockid.MONOTONIC:
        return monotonicNs();
      case Clockid.PROCESS_CPUTIME_ID:
      case Clockid.THREAD_CPUTIME_ID:
        return cpuNs();
      default:
        return null;
    }
  }
}

const RESOLUTION: Record<number, bigint> = {
  [Clockid.REALTIME]: 1000n,
  [Clockid.MONOTONIC]: 1n,
  [Clockid.PROCESS_CPUTIME_ID]: 1000n,
  [Clockid.THREAD_CPUTIME_ID]: 1000n,
};

export function clockFunctions(ctx: Ctx): FnGroup {
  const { mem, shared } = ctx;
  return {
    sync: {
      clock_res_get: (id: number, out: number) => {
        const res = RESOLUTION[id];
        if (res === undefined) return Errno.INVAL;
        mem.setU64(out, res);
        return Errno.SUCCESS;
      },
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        const now = shared.clocks.now(id);
        if (now === null) return Errno.INVAL;
        mem.setU64(out, now);
        return Errno.SUCCESS;
      },
    },
  };
}
