// What every process in the table carries, WASM guest, supervisor or host-side
// mailbox alike: identity, mailbox, monitors and links. The kinds differ only in
// how they run, report their state and end.

import type { ProcessState } from "../../machines/process.ts";
import type { ExitError } from "./exit.ts";
import { Mailbox } from "./mailbox.ts";
import type { ProcessKind, ProcessRecord } from "./table.ts";

export abstract class ProcessBase implements ProcessRecord {
  readonly pid: string;
  abstract readonly kind: ProcessKind | "handle";
  /** Entry ID of a WASM process, a supervisor's ID; "" for a host-side mailbox. */
  readonly entry: string;
  readonly host: string;
  readonly startedAt = Date.now();
  readonly mailbox = new Mailbox();
  /** Pids monitoring this process. */
  readonly monitors = new Set<string>();
  readonly links = new Set<string>();
  trapLinks: boolean;

  constructor(pid: string, entry: string, host: string, trapLinks = false) {
    this.pid = pid;
    this.entry = entry;
    this.host = host;
    this.trapLinks = trapLinks;
  }

  abstract state(): ProcessState;
  abstract memory(): number;
  /** Ends the process at once with this error (a no-op once it has ended). */
  abstract kill(error: ExitError): void;
}
