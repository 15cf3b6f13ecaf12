// The process API for components: wippy:process/process@0.1.0 (wit/process.wit) as
// jco calls it. Strings and list<u8> arrive as JS strings and Uint8Arrays; an enum is
// its case name, a variant `{ tag, val }`, an option `undefined` or the value. A
// `result` error is thrown as its payload (jco turns a thrown non-Error into `err`).
// `receive` is listed in ASYNC_IMPORTS, so jco suspends the guest on its Promise.

import type { MailboxEvent } from "../process/events.ts";
import type { ExitError } from "../process/exit.ts";
import { exitValueJson, reasonText, type Wire, type WireFormat } from "../process/wire.ts";
import { GuestError, type GuestProcess, type SpawnMode } from "./process-host.ts";

export const PROCESS_INTERFACE = "wippy:process/process";

/**
 * The functions that may wait, as jco names them for `asyncImports` (see
 * src/wasi/p2/async-imports.ts): receive, and those another thread answers when
 * the process runs on a worker (section 8).
 */
export const PROCESS_ASYNC_IMPORTS: readonly string[] = ["receive", "send", "spawn", "spawn-monitored", "spawn-linked", "spawn-linked-monitored", "link"].map((f) => `${PROCESS_INTERFACE}#${f}`);

type Tagged = { tag: string; val: unknown };
const exitError = (e: ExitError) => ({ kind: e.kind, message: e.message });

function toEvent(event: MailboxEvent | null): Tagged | undefined {
  if (!event) return undefined;
  switch (event.type) {
    case "MESSAGE": {
      const wire = event.payload as Wire; // a guest's mailbox holds encoded payloads (table.send)
      return { tag: "message", val: { from: event.from, topic: event.topic, format: wire.format, payload: wire.bytes } };
    }
    case "EXIT":
      return {
        tag: "exit",
        val: { from: event.from, result: "error" in event ? { tag: "error", val: exitError(event.error) } : { tag: "value", val: exitValueJson(event.value) } },
      };
    case "LINK_DOWN":
      return { tag: "link-down", val: { from: event.from, error: exitError(event.error) } };
    case "CANCEL":
      return { tag: "cancel", val: { from: event.from, reason: reasonText(event.reason) } };
  }
}

/** Runs a call; a refusal is thrown as the WIT error variant (a call answered later rejects with it). */
function attempt<T>(guest: GuestProcess, fn: () => T): T {
  const refused = (err: unknown): never => {
    const e = guest.fail(err);
    throw { tag: e.code, val: e.message } satisfies Tagged;
  };
  let out: T;
  try {
    out = fn();
  } catch (err) {
    return refused(err);
  }
  return (out instanceof Promise ? out.catch(refused) : out) as T;
}

function format(f: unknown, what: string): WireFormat {
  if (f !== "bytes" && f !== "json") throw new GuestError("invalid", `${what}: format must be bytes or json`);
  return f;
}

/** The interface object for one component instance. */
export function componentProcessImports(guest: GuestProcess): Record<string, unknown> {
  const spawner = (mode: SpawnMode) => (entry: string, host: string, argsJson: string) => attempt(guest, () => guest.spawn(mode, entry, host, argsJson));
  const onPid = (op: (pid: string) => void) => (pid: string) => attempt(guest, () => op(pid));
  return {
    self: () => guest.pid,
    send: (to: string, topic: string, f: unknown, payload: Uint8Array) =>
      attempt(guest, () => guest.send(to, topic, format(f, "send"), payload.slice())),
    receive: (timeoutMs: number | undefined) => guest.receive(timeoutMs, toEvent),
    spawn: spawner("spawn"),
    spawnMonitored: spawner("spawn-monitored"),
    spawnLinked: spawner("spawn-linked"),
    spawnLinkedMonitored: spawner("spawn-linked-monitored"),
    monitor: onPid((pid) => guest.monitor(pid)),
    unmonitor: onPid((pid) => guest.unmonitor(pid)),
    link: onPid((pid) => guest.link(pid)),
    unlink: onPid((pid) => guest.unlink(pid)),
    terminate: onPid((pid) => guest.terminate(pid)),
    cancel: (pid: string, reason: string) => attempt(guest, () => guest.cancel(pid, reason)),
    setTrapLinks: (trap: boolean) => guest.setTrapLinks(trap),
    setResult: (f: unknown, payload: Uint8Array) => attempt(guest, () => guest.setResult(format(f, "set-result"), payload)),
  };
}
