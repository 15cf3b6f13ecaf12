// wasi:clocks — monotonic (with real-timer pollables) and wall clock.

import type { HostContext } from "./context.ts";
import { Pollable, sleepUntil } from "./io.ts";

const now = () => process.hrtime.bigint();

/** A pollable that becomes ready at monotonic time `deadline` (ns). */
export function timerPollable(ctx: HostContext, deadline: bigint): Pollable {
  return new Pollable(ctx, () => now() >= deadline, (signal) => sleepUntil(deadline, signal));
}

export function clocksImports(ctx: HostContext): Record<string, Record<string, unknown>> {
  return {
    "wasi:clocks/monotonic-clock": {
      now,
      resolution: () => 1n,
      subscribeInstant: (when: bigint) => timerPollable(ctx, when),
      subscribeDuration: (duration: bigint) => timerPollable(ctx, now() + duration),
    },
    "wasi:clocks/wall-clock": {
      now() {
        const ms = Date.now();
        return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
  };
}
