// Values crossing into and out of guests (SPEC section 7; later threads and nodes):
// a payload is bytes or the text of one JSON value. A TypeScript Uint8Array crosses
// as bytes, any other value as JSON; a value JSON cannot carry is a TypeError at `send`.

export type WireFormat = "bytes" | "json";

/** A payload as it crosses: its format and its bytes (JSON as UTF-8 text). */
export class Wire {
  readonly format: WireFormat;
  readonly bytes: Uint8Array;
  /** JSON already parsed (a guest's payload is checked when sent): TypeScript gets it without parsing again. */
  readonly parsed: { value: unknown } | undefined;
  constructor(format: WireFormat, bytes: Uint8Array, parsed?: { value: unknown }) {
    this.format = format;
    this.bytes = bytes;
    this.parsed = parsed;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Why `value` cannot be JSON (with where inside it), or undefined when it can. */
function notJson(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot carry`;
    case "object": {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path} refers back to itself (a cycle)`;
      const proto = Object.getPrototypeOf(value);
      const array = Array.isArray(value);
      if (!array && proto !== Object.prototype && proto !== null) {
        return `${path} is ${value.constructor?.name ? `a ${value.constructor.name}` : "not a plain object"}; send plain objects, arrays, strings, finite numbers, booleans, null, or a Uint8Array`;
      }
      seen.add(value);
      const entries: [string, unknown][] = array ? (value as unknown[]).map((v, i) => [`[${i}]`, v]) : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
      for (const [key, v] of entries) {
        const why = notJson(v, `${path}${key}`, seen);
        if (why) return why;
      }
      seen.delete(value);
      return undefined;
    }
    default:
      return `${path} is ${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}, which JSON cannot carry`;
  }
}

/**
 * A TypeScript value as it crosses: a Uint8Array as bytes (copied: the sender keeps
 * its own), any other value as JSON text; `undefined` at the top (a send without a
 * payload) as `null`. Throws a TypeError naming what cannot cross.
 */
export function toWire(value: unknown, what = "send"): Wire {
  if (value instanceof Uint8Array) return new Wire("bytes", value.slice());
  if (value === undefined) return new Wire("json", encoder.encode("null"));
  const why = notJson(value, "the payload", new Set());
  if (why) throw new TypeError(`${what}: ${why}`);
  return new Wire("json", encoder.encode(JSON.stringify(value)));
}

/** What TypeScript receives: bytes as a Uint8Array, JSON as the parsed value. */
export function fromWire(wire: Wire): unknown {
  if (wire.format === "bytes") return wire.bytes;
  return wire.parsed ? wire.parsed.value : JSON.parse(decoder.decode(wire.bytes));
}

/** Parses a guest's JSON text; undefined when it is not one JSON value. */
export function parseJson(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return undefined;
  }
}

const SAFE = 2 ** 53;

/**
 * The JSON text of an EXIT value as a guest receives it: never fails. Integers beyond
 * ±2^53 (and BigInts) become decimal strings, bytes an array of numbers, what JSON
 * cannot carry (undefined, functions) null.
 */
export function exitValueJson(value: unknown): string {
  try {
    const text = JSON.stringify(value ?? null, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "number" && Number.isInteger(v) && Math.abs(v) > SAFE) return BigInt(v).toString();
      if (v instanceof Uint8Array) return Array.from(v);
      if (typeof v === "number" && !Number.isFinite(v)) return null;
      return v;
    });
    return text ?? "null";
  } catch {
    return JSON.stringify(`(${Object.prototype.toString.call(value)}, not serialisable)`); // a cycle
  }
}

/** The text a guest sees for a CANCEL reason: a string as it is, anything else as JSON. */
export function reasonText(reason: unknown): string {
  return typeof reason === "string" ? reason : exitValueJson(reason);
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
