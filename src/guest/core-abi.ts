// The process API for core modules: the functions of include/wippy/process.h,
// imported from the module `wippy:process`. Strings and bytes are (pointer, length)
// in the guest's memory; data handed back is copied into the guest's buffer up to its
// capacity, and the full length returned. Refusals are negative codes (-1 - the
// index of the WIT error case) with the message kept for `last-error`.

import type { MailboxEvent } from "../process/events.ts";
import { exitValueJson, reasonText, utf8, type Wire, type WireFormat } from "../process/wire.ts";
import { suspending, type WrapWaiting } from "../wasm/program.ts";
import { errorJson, GUEST_ERROR_CODES, GuestError, type GuestProcess, type SpawnMode } from "./process-host.ts";

export const PROCESS_MODULE = "wippy:process";

/** Every function the module provides, by import name. */
export const CORE_PROCESS_FUNCTIONS: ReadonlySet<string> = new Set([
  "self", "send", "receive", "event-from", "event-topic", "event-format", "event-payload", "event-is-error",
  "spawn", "spawn-monitored", "spawn-linked", "spawn-linked-monitored",
  "monitor", "unmonitor", "link", "unlink", "cancel", "terminate", "set-trap-links", "set-result", "last-error",
]);

/** The calls another thread answers when the process runs on a worker (section 8). */
const ANSWERED_LATER = ["send", "spawn", "spawn-monitored", "spawn-linked", "spawn-linked-monitored", "link"] as const;

/** Event kinds as `receive` returns them (process.h). */
const KIND = { TIMEOUT: 0, MESSAGE: 1, EXIT: 2, LINK_DOWN: 3, CANCEL: 4 } as const;
const FORMATS: readonly WireFormat[] = ["bytes", "json"];

const decoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

function kindOf(event: MailboxEvent | null): number {
  switch (event?.type) {
    case undefined:
      return KIND.TIMEOUT;
    case "MESSAGE":
      return KIND.MESSAGE;
    case "EXIT":
      return KIND.EXIT;
    case "LINK_DOWN":
      return KIND.LINK_DOWN;
    case "CANCEL":
      return KIND.CANCEL;
  }
}

/** Pids as UTF-8, kept for the few a process talks to (its peers repeat). */
class PidBytes {
  #cache = new Map<string, Uint8Array>();
  get(pid: string): Uint8Array {
    let b = this.#cache.get(pid);
    if (!b) {
      if (this.#cache.size >= 64) this.#cache.clear();
      this.#cache.set(pid, (b = utf8(pid)));
    }
    return b;
  }
}

/** The current event's fields, made when the guest first asks for them. */
class Current {
  readonly kind: number;
  readonly #event: MailboxEvent | null;
  #payload: Uint8Array | undefined;
  constructor(event: MailboxEvent | null) {
    this.#event = event;
    this.kind = kindOf(event);
  }
  from(pids: PidBytes): Uint8Array {
    return this.#event ? pids.get(this.#event.from) : EMPTY;
  }
  topic(): Uint8Array {
    return this.#event?.type === "MESSAGE" ? utf8(this.#event.topic) : EMPTY;
  }
  format(): number {
    const e = this.#event;
    if (!e || e.type === "CANCEL") return 0;
    return e.type === "MESSAGE" ? ((e.payload as Wire).format === "json" ? 1 : 0) : 1;
  }
  isError(): number {
    const e = this.#event;
    return e !== null && (e.type === "LINK_DOWN" || (e.type === "EXIT" && "error" in e)) ? 1 : 0;
  }
  payload(): Uint8Array {
    return (this.#payload ??= payloadOf(this.#event));
  }
}

function payloadOf(event: MailboxEvent | null): Uint8Array {
  if (!event) return EMPTY;
  switch (event.type) {
    case "MESSAGE":
      return (event.payload as Wire).bytes; // a guest's mailbox holds encoded payloads (table.send)
    case "EXIT":
      return utf8("error" in event ? errorJson(event.error) : exitValueJson(event.value));
    case "LINK_DOWN":
      return utf8(errorJson(event.error));
    case "CANCEL":
      return utf8(reasonText(event.reason));
  }
}

const NO_EVENT = new Current(null);

export interface CoreProcessBinding {
  imports: Record<string, unknown>;
  bindMemory(memory: WebAssembly.Memory): void;
}

/** The `wippy:process` import object of one core instance. */
export function coreProcessImports(guest: GuestProcess, wrap: WrapWaiting = suspending): CoreProcessBinding {
  let memory: WebAssembly.Memory | undefined;
  let view = EMPTY;
  let current = NO_EVENT;
  const pids = new PidBytes();

  /** The guest's memory, with `len` bytes at `ptr` checked to lie inside it (no view of its own: callers index it). */
  const at = (ptr: number, len: number, what: string): Uint8Array => {
    if (!memory) throw new WebAssembly.RuntimeError(`wippy:process ${what}: the module exports no memory to pass strings and bytes in`);
    // a grown memory detaches the old view (its length drops to 0): renewed only then
    if (ptr + len > view.length) view = new Uint8Array(memory.buffer);
    if (ptr + len > view.length) throw new WebAssembly.RuntimeError(`wippy:process ${what}: pointer ${ptr} + ${len} bytes lies outside the guest's memory`);
    return view;
  };
  const bytes = (ptr: number, len: number, what: string): Uint8Array => {
    ptr >>>= 0;
    len >>>= 0;
    return at(ptr, len, what).subarray(ptr, ptr + len);
  };
  const text = (ptr: number, len: number, what: string): string => {
    ptr >>>= 0;
    len >>>= 0;
    const v = at(ptr, len, what);
    // pids and topics are short ASCII: no decoder call for them
    if (len <= 64) {
      let s = "";
      for (let i = ptr; i < ptr + len; i++) {
        const c = v[i]!;
        if (c > 0x7f) return decode(v.subarray(ptr, ptr + len), what);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decode(v.subarray(ptr, ptr + len), what);
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
    ptr >>>= 0;
    if (n > 0) at(ptr, n, what).set(n === data.length ? data : data.subarray(0, n), ptr);
    return data.length;
  };
  const code = (err: unknown): number => -1 - GUEST_ERROR_CODES.indexOf(guest.fail(err).code);
  /** Runs a call; a refusal becomes its negative code. */
  const attempt = (fn: () => number): number => {
    try {
      return fn();
    } catch (err) {
      return code(err);
    }
  };
  /** `attempt` for a call that another thread may answer (the guest then suspends on it). */
  const awaited = <T>(call: () => T | Promise<T>, then: (value: T) => number): number | Promise<number> => {
    let out: T | Promise<T>;
    try {
      out = call();
    } catch (err) {
      return code(err);
    }
    if (!(out instanceof Promise)) return attempt(() => then(out));
    return out.then((v) => attempt(() => then(v)), code);
  };
  const format = (f: number, what: string): WireFormat => {
    const name = FORMATS[f];
    if (name === undefined) throw new GuestError("invalid", `${what}: format must be 0 (bytes) or 1 (json), got ${f}`);
    return name;
  };
  const spawner = (mode: SpawnMode) => (ep: number, el: number, hp: number, hl: number, ap: number, al: number, out: number, cap: number): number | Promise<number> =>
    awaited(() => guest.spawn(mode, text(ep, el, mode), text(hp, hl, mode), text(ap, al, mode)), (pid) => copyOut(utf8(pid), out, cap, mode));
  const onPid = (what: string, op: (pid: string) => void) => (ptr: number, len: number): number =>
    attempt(() => {
      op(text(ptr, len, what));
      return 0;
    });
  const taken = (event: MailboxEvent | null): number => {
    current = event ? new Current(event) : NO_EVENT;
    return current.kind;
  };
  /** Pid and topic arguments repeat (a peer, its topic): the same bytes as last time give the same string, compared in place instead of decoded. */
  const memo = () => {
    let last = "";
    let lastBytes = EMPTY;
    return (ptr: number, len: number, what: string): string => {
      ptr >>>= 0;
      len >>>= 0;
      const v = at(ptr, len, what);
      if (len === lastBytes.length) {
        let i = 0;
        while (i < len && v[ptr + i] === lastBytes[i]) i++;
        if (i === len) return last;
      }
      last = text(ptr, len, what);
      lastBytes = v.slice(ptr, ptr + len);
      return last;
    };
  };
  const sendTo = memo();
  const sendTopic = memo();
  const receive = (timeout: number): number | Promise<number> => guest.receive(timeout < 0 ? undefined : timeout, taken);

  const fns: Record<string, unknown> = {
    self: (out: number, cap: number) => copyOut(pids.get(guest.pid), out, cap, "self"),
    send: (tp: number, tl: number, pp: number, pl: number, f: number, dp: number, dl: number) =>
      awaited(() => {
        const to = sendTo(tp, tl, "send");
        const topic = sendTopic(pp, pl, "send");
        dp >>>= 0;
        dl >>>= 0;
        const payload = at(dp, dl, "send").slice(dp, dp + dl); // the guest may reuse its buffer at once
        return guest.send(to, topic, format(f, "send"), payload);
      }, (sent) => (sent ? 1 : 0)),
    receive: wrap(receive),
    "event-from": (out: number, cap: number) => copyOut(current.from(pids), out, cap, "event-from"),
    "event-topic": (out: number, cap: number) => copyOut(current.topic(), out, cap, "event-topic"),
    "event-format": () => current.format(),
    "event-payload": (out: number, cap: number) => copyOut(current.payload(), out, cap, "event-payload"),
    "event-is-error": () => current.isError(),
    spawn: spawner("spawn"),
    "spawn-monitored": spawner("spawn-monitored"),
    "spawn-linked": spawner("spawn-linked"),
    "spawn-linked-monitored": spawner("spawn-linked-monitored"),
    monitor: onPid("monitor", (pid) => guest.monitor(pid)),
    unmonitor: onPid("unmonitor", (pid) => guest.unmonitor(pid)),
    link: (ptr: number, len: number) => awaited(() => guest.link(text(ptr, len, "link")), () => 0),
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
  // on a worker thread these are answered by another thread: the guest suspends on them
  if (guest.answersLater) {
    for (const name of ANSWERED_LATER) fns[name] = wrap(fns[name] as (...a: number[]) => number | Promise<number>);
  }
  return {
    imports: fns,
    bindMemory(m) {
      memory = m;
      view = new Uint8Array(m.buffer);
    },
  };
}
