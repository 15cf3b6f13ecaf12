// One log line per supervision event worth a line, tagged with pid and entry.

import { describeExit } from "../../supervisors/bookkeeping.ts";
import type { SupervisionEvent } from "./supervisor-process.ts";

export function formatSupervisionEvent(e: SupervisionEvent): string | null {
  switch (e.type) {
    case "supervisor.started":
      return `supervisor ${e.pid} ${e.supervisor} started${e.parent ? ` under ${e.parent}` : ""}`;
    case "supervisor.exited":
      return `supervisor ${e.pid} ${e.supervisor} ${"error" in e.result && e.result.error.kind !== "cancelled" ? `failed: ${describeExit(e.result)}` : "stopped"}`;
    case "child.started":
      return e.restarts === 0
        ? `start ${e.pid} ${e.child} [${e.supervisor}]`
        : `restart ${e.pid} ${e.child} (restart ${e.restarts}; was ${e.previousPid ?? "?"}: ${e.lastExit ? describeExit(e.lastExit) : "stopped"}) [${e.supervisor}]`;
    case "child.exited":
      switch (e.outcome) {
        case "restart":
          return null; // the restart line says it, with the new pid
        case "ended":
          return `exit ${e.pid} ${e.child}: ${describeExit(e.result)}; not restarted (restart type) [${e.supervisor}]`;
        case "give-up":
          return `exit ${e.pid} ${e.child}: ${describeExit(e.result)}; ${e.supervisor} gives up [${e.supervisor}]`;
        case "planned":
          return `stop ${e.pid} ${e.child} for a restart (${describeExit(e.result)}) [${e.supervisor}]`;
        case "terminated":
          return `stop ${e.pid} ${e.child} (${describeExit(e.result)}); terminated, not restarted [${e.supervisor}]`;
        case "shutdown":
          return `stop ${e.pid} ${e.child} (${describeExit(e.result)}) [${e.supervisor}]`;
      }
  }
}
