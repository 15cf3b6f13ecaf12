// The process API for core modules: the functions of include/wippy/process.h,
// imported from the module `wippy:process`. Strings and bytes are (pointer, length)
// in the guest's memory; data handed back is copied into the guest's buffer up to its
// capacity, and the full length returned. Refusals are negative codes (-1 - the
// index of the WIT error case) with the message kept for `last-error`.

import type { MailboxEvent } from "../process/events.ts";
import { exitValueJson, reasonText, utf8, type Wire, type WireFormat } from "../process/wire.ts";
import { errorJson, GUEST_ERROR_CODES, GuestError, type GuestProcess, type SpawnMode } from "./process-host.ts";

export const PROCESS_MODULE = "wippy:process";

/** Every function the module provides, by import name. */
export const CORE_PROCESS_FUNCTIONS: ReadonlySet<string> = new Set([
  "self", "send", "receive", "event-from", "event-topic", "event-format", "event-payload", "event-is-error",
  "spawn", "spawn-monitored", "spawn-linked", "spawn-linked-monitored",
  "monitor", "unmonitor", "link", "unlink", "cancel", "terminate", "set-trap-links", "set-result", "last-error",
]);

/** Event kinds as `receive` returns them (process.h). */
const KIND = { TIMEOUT: 0, MESSAGE: 1, EXIT: 2, LINK_DOWN: 3, CANCEL: 4 } as const;
const FORMATS: readonly WireFormat[] = ["bytes", "json"];

const decoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

/** The current event, flattened once for the event-* readers. */
interface Current {
  kind: number;
  from: Uint8Array;
  topic: Uint8Array;
  format: number;
  payload: Uint8Array;
  isError: number;
}

function flatten(event: MailboxEvent): Current {
  const from = utf8(event.from);
  switch (event.type) {
    case "MESSAGE": {
      const wire = event.payload as Wire; // a guest's mailbox holds encoded payloads (table.send)
      return { kind: KIND.MESSAGE, from, topic: utf8(event.topic), format: wire.format === "json" ? 1 : 0, payload: wire.bytes, isError: 0 };
    }
    case "EXIT":
      return "error" in event
        ? { kind: KIND.EXIT, from, topic: EMPTY, format: 1, payload: utf8(errorJson(event.error)), isError: 1 }
        : { kind: KIND.EXIT, from, topic: EMPTY, format: 1, payload: utf8(exitValueJson(event.value)), isError: 0 };
    case "LINK_DOWN":
      return { kind: KIND.LINK_DOWN, from, topic: EMPTY, format: 1, payload: utf8(errorJson(event.error)), isError: 1 };
    case "CANCEL":
      return { kind: KIND.CANCEL, from, topic: EMPTY, format: 0, payload: utf8(reasonText(event.reason)), isError: 0 };
  }
}

const NO_EVENT: Current = { kind: KIND.TIMEOUT, from: EMPTY, topic: EMPTY, format: 0, payload: EMPTY, isError: 0 };

export interface CoreProcessBinding {
  imports: Record<string, unknown>;
  bindMemory(memory: WebAssembly.Memory): void;
}

/** The `wippy:process` import object of one core instance. */
export function coreProcessImports(guest: GuestProcess): CoreProcessBinding {
  let memory: WebAssembly.Memory | undefined;
  let view = EMPTY;
  let current = NO_EVENT;

  const bytes = (ptr: number, len: number, what: string): Uint8Array => {
    if (!memory) throw new WebAssembly.RuntimeError(`wippy:process ${what}: the module exports no memory to pass strings and bytes in`);
    if (view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > view.length) throw new WebAssembly.RuntimeError(`wippy:process ${what}: pointer ${ptr} + ${len} bytes lies outside the guest's memory`);
    return view.subarray(ptr, ptr + len);
  };
  const text = (ptr: number, len: number, what: string): string => {
    const b = bytes(ptr, len, what);
    // pids and topics are short ASCII: no decoder call for them
    if (len <= 64) {
      let s = "";
      for (let i = 0; i < b.length; i++) {
        const c = b[i]!;
        if (c > 0x7f) return decode(b, what);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decode(b, what);
  };
  const decode = (b: Uint8Array, what: string): string => {
    try {
      return decoder.decode(b);
    } catch {
      throw new GuestError("invalid", `${what}: a string argument is not valid UTF-8`);
    }
  };
  /** Copies up to `cap` bytes to the guest; returns the full length. */
  const copyOut = (data: Uint8Array, ptr: number, cap: number, what: string): number => {
    const n = Math.min(data.length, cap >>> 0);
    if (n > 0) bytes(ptr, n, what).set(n === data.length ? data : data.subarray(0, n));
    return data.length;
  };
  /** Runs a call; a refusal becomes its negative code. */
  const attempt = (fn: () => number): number => {
    try {
      return fn();
    } catch (err) {
      const e = guest.fail(err);
      return -1 - GUEST_ERROR_CODES.indexOf(e.code);
    }
  };
  const format = (f: number, what: string): WireFormat => {
    const name = FORMATS[f];
    if (name === undefined) throw new GuestError("invalid", `${what}: format must be 0 (bytes) or 1 (json), got ${f}`);
    return name;
  };
  const spawner = (mode: SpawnMode) => (ep: number, el: number, hp: number, hl: number, ap: number, al: number, out: number, cap: number): number =>
    attempt(() => {
      const pid = guest.spawn(mode, text(ep, el, mode), text(hp, hl, mode), text(ap, al, mode));
      return copyOut(utf8(pid), out, cap, mode);
    });
  const onPid = (what: string, op: (pid: string) => void) => (ptr: number, len: number): number =>
    attempt(() => {
      op(text(ptr, len, what));
      return 0;
    });
  const taken = (event: MailboxEvent | null): number => {
    current = event ? flatten(event) : NO_EVENT;
    return current.kind;
  };

  const receive = (timeout: number): number | Promise<number> => {
    const got = guest.receive(timeout < 0 ? undefined : timeout);
    return got instanceof Promise ? got.then(taken) : taken(got);
  };

  const fns: Record<string, unknown> = {
    self: (out: number, cap: number) => copyOut(utf8(guest.pid), out, cap, "self"),
    send: (tp: number, tl: number, pp: number, pl: number, f: number, dp: number, dl: number) =>
      attempt(() => {
        const to = text(tp, tl, "send");
        const bytesOut = bytes(dp, dl, "send").slice(); // the guest may reuse its buffer at once
        return guest.send(to, text(pp, pl, "send"), format(f, "send"), bytesOut) ? 1 : 0;
      }),
    receive: new WebAssembly.Suspending(receive),
    "event-from": (out: number, cap: number) => copyOut(current.from, out, cap, "event-from"),
    "event-topic": (out: number, cap: number) => copyOut(current.topic, out, cap, "event-topic"),
    "event-format": () => current.format,
    "event-payload": (out: number, cap: number) => copyOut(current.payload, out, cap, "event-payload"),
    "event-is-error": () => current.isError,
    spawn: spawner("spawn"),
    "spawn-monitored": spawner("spawn-monitored"),
    "spawn-linked": spawner("spawn-linked"),
    "spawn-linked-monitored": spawner("spawn-linked-monitored"),
    monitor: onPid("monitor", (pid) => guest.monitor(pid)),
    unmonitor: onPid("unmonitor", (pid) => guest.unmonitor(pid)),
    link: onPid("link", (pid) => guest.link(pid)),
    unlink: onPid("unlink", (pid) => guest.unlink(pid)),
    terminate: onPid("terminate", (pid) => guest.terminate(pid)),
    cancel: (pp: number, pl: number, rp: number, rl: number) =>
      attempt(() => {
        guest.cancel(text(pp, pl, "cancel"), text(rp, rl, "cancel"));
        return 0;
      }),
    "set-trap-links": (trap: number) => guest.setTrapLinks(trap !== 0),
    "set-result": (f: number, dp: number, dl: number) =>
      attempt(() => {
        guest.setResult(format(f, "set-result"), bytes(dp, dl, "set-result"));
        return 0;
      }),
    "last-error": (out: number, cap: number) => copyOut(utf8(guest.lastError), out, cap, "last-error"),
  };
  return {
    imports: fns,
    bindMemory(m) {
      memory = m;
      view = new Uint8Array(m.buffer);
    },
  };
}
