// Exit results and the error classes of the process API (SPEC sections 3 and 4).

export type ExitKind =
  | "trap"
  | "limit"
  | "killed"
  | "cancelled"
  | "spawn"
  | "link"
  | "noproc"
  | "noconnection"
  | "error"
  | "exit";

export interface ExitError {
  kind: ExitKind;
  message: string;
  /** WASI exit status, for kind "exit". */
  code?: number;
  /** The guest's own error payload (a component `result` err). */
  value?: unknown;
}

export type ExitResult = { value: unknown } | { error: ExitError };

/** Tells an EXIT error from an EXIT value. */
export function isExitError(result: ExitResult): result is { error: ExitError } {
  return "error" in result;
}

/**
 * An error that already knows which exit kind it becomes. Everything the
 * runtime throws on purpose is one of these; anything else is classified by
 * `toExitError`.
 */
export class ProcessError extends Error {
  readonly kind: ExitKind;
  readonly code?: number;
  readonly value?: unknown;
  constructor(kind: ExitKind, message: string, extra: { code?: number; value?: unknown } = {}) {
    super(message);
    this.name = "ProcessError";
    this.kind = kind;
    if (extra.code !== undefined) this.code = extra.code;
    if ("value" in extra) this.value = extra.value;
  }
  toExitError(): ExitError {
    const e: ExitError = { kind: this.kind, message: this.message };
    if (this.code !== undefined) e.code = this.code;
    if (this.value !== undefined) e.value = this.value;
    return e;
  }
}

/** The calling process has ended: `kind` is how it ended. */
export class ProcessExitError extends ProcessError {
  readonly pid: string;
  constructor(pid: string, exit: ExitError) {
    super(exit.kind, `process ${pid} has ended (${exit.kind}): ${exit.message}`, exit.code !== undefined ? { code: exit.code } : {});
    this.name = "ProcessExitError";
    this.pid = pid;
  }
}

/** `send` to a mailbox holding its `max_mailbox` messages: nothing was enqueued. */
export class MailboxFullError extends Error {
  readonly pid: string;
  /** Its limits.max_mailbox. */
  readonly capacity: number;
  constructor(pid: string, capacity: number) {
    super(`the mailbox of ${pid} is full (${capacity} messages, limits.max_mailbox); the receiver is not keeping up`);
    this.name = "MailboxFullError";
    this.pid = pid;
    this.capacity = capacity;
  }
}

/** Classifies anything a guest call threw into an exit error. */
export function toExitError(err: unknown, fallback: ExitKind = "trap"): ExitError {
  if (err instanceof ProcessError) return err.toExitError();
  if (err instanceof WebAssembly.RuntimeError) return { kind: "trap", message: err.message.startsWith("wasm trap") ? err.message : `wasm trap: ${err.message}` };
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return { kind: "trap", message: "wasm trap: call stack exhausted" };
  }
  if (err instanceof Error) return { kind: fallback, message: err.message };
  return { kind: fallback, message: describeReason(err) };
}

/** The JSON text of a value; undefined when JSON cannot carry it (circular, a BigInt inside, a throwing toJSON). */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** A thrown or given value as one line of text, never throwing. */
export function describeReason(reason: unknown): string {
  if (typeof reason === "string") return reason;
  if (reason instanceof Error) return reason.message || reason.name;
  return jsonText(reason) ?? (typeof reason === "object" && reason !== null ? `(${Object.prototype.toString.call(reason)}, not serialisable)` : String(reason));
}

/** Anything a guest call threw, as the ProcessError it becomes (a ProcessError stays as it is). */
export function toProcessError(err: unknown, fallback: ExitKind = "trap"): ProcessError {
  if (err instanceof ProcessError) return err;
  const { kind, message, ...extra } = toExitError(err, fallback);
  return new ProcessError(kind, message, extra);
}
