// What the main thread and a worker thread say to each other (SPEC section 8).
// The main thread holds every pid, monitor and link; a worker runs the bodies of
// its processes and their mailboxes. Messages go in batches over one port per
// worker, so what one side sends the other sees in the same order.

import type { MessagePort } from "node:worker_threads";
import type { ProcessMachineEvent, ProcessState } from "../../machines/process.ts";
import type { MailboxEvent } from "../process/events.ts";
import { MailboxFullError, ProcessError, describeReason, type ExitError, type ExitKind, type ExitResult } from "../process/exit.ts";
import type { SpawnOptions } from "../process/api.ts";
import { Wire, type WireFormat } from "../process/wire.ts";
import type { ProgramDescriptor } from "./programs.ts";

/** A MESSAGE payload as it crosses a thread: a guest's bytes or JSON text (a Wire loses its class in a structured clone). */
export interface PlainWire {
  format: WireFormat;
  bytes: Uint8Array;
}

/** Main → worker. */
export type ToWorker =
  | { t: "program"; key: string; program: ProgramDescriptor }
  | { t: "spawn"; pid: string; entry: string; kind: "wasm" | "lua"; program: string; args: unknown[] }
  /** `seq`: a MESSAGE the sender waits on; the worker acks it. */
  | { t: "deliver"; pid: string; event: MailboxEvent; seq?: number }
  | { t: "kill"; pid: string; error: ExitError }
  | { t: "cancelled"; pid: string; from: string; reason: unknown }
  | { t: "reply"; id: number; value?: unknown; error?: WireError }
  | { t: "inspect"; on: boolean }
  /** This worker's end of a direct line to worker `thread` (transferred, outside any batch). */
  | { t: "peer"; thread: number; port: MessagePort };

/** The main thread's answer to a worker's `send`: and where the target runs, when that is another worker. */
export interface SendAnswer {
  sent: boolean;
  at?: number;
}

/** Worker → main. `id`: a request the main thread replies to. */
export type ToMain =
  /** The worker has loaded its modules and takes spawns. */
  | { t: "ready" }
  | { t: "ack"; seq: number; outcome: "queued" | "full" | "closed"; capacity: number }
  | { t: "exit"; pid: string; result: ExitResult }
  /** The latest state of a process (coalesced while nobody inspects). */
  | { t: "state"; pid: string; state: ProcessState; memory: number }
  /** Every machine event while someone inspects: the main thread's mirror replays it. */
  | { t: "transition"; pid: string; event: ProcessMachineEvent; memory: number }
  | { t: "send"; id: number; from: string; to: string; topic: string; payload: PlainWire }
  | { t: "spawn"; id: number; entry: string; host: string; args: unknown[]; opts: SpawnOptions }
  | { t: "link"; id: number; a: string; b: string }
  | { t: "op"; op: "monitor" | "unmonitor" | "unlink" | "terminate"; a: string; b: string }
  | { t: "cancel"; from: string; pid: string; reason: string }
  | { t: "trap-links"; pid: string; trap: boolean }
  /** Guest output; the writer waits for the reply (the sink has taken it). */
  | { t: "out"; id: number; pid: string; stream: "stdout" | "stderr"; chunk: Uint8Array }
  | { t: "stdin"; id: number; pid: string }
  | { t: "lock"; id: number; folders: string[] }
  | { t: "unlock"; lock: number };

/** An error as it crosses, rebuilt with its class on the other side. */
export interface WireError {
  name: string;
  message: string;
  kind?: ExitKind;
  pid?: string;
  capacity?: number;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof MailboxFullError) return { name: err.name, message: err.message, pid: err.pid, capacity: err.capacity };
  if (err instanceof ProcessError) return { name: "ProcessError", message: err.message, kind: err.kind };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: "Error", message: describeReason(err) };
}

export function fromWireError(e: WireError): Error {
  switch (e.name) {
    case "MailboxFullError":
      return new MailboxFullError(e.pid ?? "", e.capacity ?? 0);
    case "ProcessError":
      return new ProcessError(e.kind ?? "error", e.message);
    case "TypeError":
      return new TypeError(e.message);
    case "RangeError":
      return new RangeError(e.message);
    default:
      return new Error(e.message);
  }
}

/** An event as it crosses: a MESSAGE's Wire as plain bytes. */
export function plainEvent(event: MailboxEvent): MailboxEvent {
  if (event.type !== "MESSAGE" || !(event.payload instanceof Wire)) return event;
  return { ...event, payload: plainWire(event.payload) };
}

/** The event as the receiving guest's mailbox holds it: its payload a Wire again. */
export function wireEvent(event: MailboxEvent): MailboxEvent {
  if (event.type !== "MESSAGE") return event;
  return { ...event, payload: fromPlainWire(event.payload as PlainWire) };
}

export function plainWire(w: Wire): PlainWire {
  return { format: w.format, bytes: w.bytes };
}

export function fromPlainWire(p: PlainWire): Wire {
  return new Wire(p.format, p.bytes);
}
