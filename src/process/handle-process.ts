// A caller's own mailbox as a process (`runtime.process`, `newProcess()`, exec's
// watcher): a pid that can spawn, monitor, link and receive, with no body.

import type { ProcessState } from "../../machines/process.ts";
import type { ExitError, ExitResult } from "./exit.ts";
import { ProcessBase } from "./record.ts";
import type { ProcessTable } from "./table.ts";

export class HandleProcess extends ProcessBase {
  readonly kind = "handle" as const;
  readonly #table: ProcessTable;

  constructor(table: ProcessTable, pid: string, host: string) {
    super(pid, null, host);
    this.#table = table;
    table.add(this);
  }

  state(): ProcessState {
    return this.mailbox.closed ? "closed" : "suspended";
  }

  memory(): number {
    return 0;
  }

  kill(error: ExitError): void {
    this.#table.exit(this.pid, { error });
  }

  /** Ends this handle normally (monitors get an EXIT with value null). */
  close(result: ExitResult = { value: null }): void {
    this.#table.exit(this.pid, result);
  }
}
