// Whether a child that ended on its own comes back (OTP restart types).

import type { RestartPolicy } from "../src/registry/types.ts";
import type { ExitResult } from "../src/process/exit.ts";

/**
 * permanent: always; temporary: never; transient: only after an error. A
 * `cancelled` end counts as an orderly stop (OTP's `shutdown`), so a transient
 * child cancelled by someone is not restarted; `killed` is abnormal and is.
 * Children the supervisor stops itself (shutdown, restart plans) never get here.
 */
export function shouldRestart(policy: RestartPolicy, exit: ExitResult): boolean {
  switch (policy) {
    case "permanent":
      return true;
    case "temporary":
      return false;
    case "transient":
      return "error" in exit && exit.error.kind !== "cancelled";
  }
}

/** A normal end: a returned value (a WASI command's status 0 included). */
export function isNormalExit(exit: ExitResult): boolean {
  return !("error" in exit);
}
