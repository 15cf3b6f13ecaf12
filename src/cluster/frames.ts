// What nodes send each other over NATS: a small JSON header and, for payloads,
// the bytes as they are (a guest's bytes, or JSON text). [u32 header length]
// [header][body].

import { describeReason } from "../process/exit.ts";
import { toWire, Wire, fromWire } from "../process/wire.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function frame(header: object, body?: Uint8Array): Uint8Array {
  const head = encoder.encode(JSON.stringify(header));
  const out = new Uint8Array(4 + head.length + (body?.length ?? 0));
  new DataView(out.buffer).setUint32(0, head.length);
  out.set(head, 4);
  if (body) out.set(body, 4 + head.length);
  return out;
}

export function unframe<H>(data: Uint8Array): { header: H; body: Uint8Array } {
  const len = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  return { header: JSON.parse(decoder.decode(data.subarray(4, 4 + len))) as H, body: data.subarray(4 + len) };
}

/** A value that must cross (an EXIT value, a CANCEL reason): as a Wire, or as its text when JSON cannot carry it. */
export function valueWire(value: unknown): Wire {
  try {
    return toWire(value, "exit value");
  } catch {
    return toWire(describeReason(value));
  }
}

/** The value again: bytes as a Uint8Array, JSON parsed. */
export function wireValue(format: "bytes" | "json", body: Uint8Array): unknown {
  return fromWire(new Wire(format, body.slice()));
}
