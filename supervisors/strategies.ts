// Which children a failure takes down with it, and which come back (OTP's
// one_for_one / one_for_all / rest_for_one as cases of one function).

import type { RestartPolicy, Strategy } from "../src/registry/types.ts";

export interface RestartPlan {
  /** Siblings to stop first, in the order to stop them (reverse start order). The failed child is not among them. */
  stop: number[];
  /** Children to start again once the stops are done, in start order (the failed child included). */
  restart: number[];
}

/**
 * `children` are in start order; `failed` is the index of the child that ended
 * and is to be restarted. Temporary siblings caught in the plan are stopped but
 * never restarted (as in OTP); the executor skips stops of children that are
 * not running.
 */
export function planRestart(strategy: Strategy, children: readonly { policy: RestartPolicy }[], failed: number): RestartPlan {
  if (failed < 0 || failed >= children.length) throw new RangeError(`no child at index ${failed}`);
  let first: number;
  let last: number;
  switch (strategy) {
    case "one_for_one":
      first = last = failed;
      break;
    case "one_for_all":
      first = 0;
      last = children.length - 1;
      break;
    case "rest_for_one":
      first = failed;
      last = children.length - 1;
      break;
  }
  const stop: number[] = [];
  for (let i = last; i >= first; i--) if (i !== failed) stop.push(i);
  const restart: number[] = [];
  for (let i = first; i <= last; i++) if (i === failed || children[i]!.policy !== "temporary") restart.push(i);
  return { stop, restart };
}
