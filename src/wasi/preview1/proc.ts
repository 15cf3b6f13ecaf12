// proc_exit, proc_raise and sched_yield.

import type { Ctx, FnGroup } from "./context.ts";
import { Errno } from "./errno.ts";

/** Thrown (as a JS exception unwinding the guest) by proc_exit. */
export class WasiExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`WASI exit with status ${code}`);
    this.name = "WasiExit";
    this.code = code;
  }
}

export function procFunctions(_ctx: Ctx): FnGroup {
  return {
    sync: {
      proc_exit: (code: number): never => {
        throw new WasiExit(code >>> 0);
      },
      // Signals have no meaning for a sandboxed process.
      proc_raise: () => Errno.NOSYS,
    },
    suspending: {
      // Lets every other process run before this one continues.
      sched_yield: () => new Promise<number>((resolve) => setImmediate(() => resolve(Errno.SUCCESS))),
    },
  };
}
