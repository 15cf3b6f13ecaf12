// Bounds-checked access to the guest's linear memory. Pointers arrive as
// signed i32; every accessor normalises them and turns an out-of-range access
// into EFAULT instead of a host RangeError.

import { Errno, fail } from "./errno.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export interface Iovec {
  ptr: number;
  len: number;
}

export class GuestMemory {
  #memory: WebAssembly.Memory | undefined;
  #view: DataView | undefined;

  bind(memory: WebAssembly.Memory): void {
    this.#memory = memory;
    this.#view = undefined;
  }

  // Memory growth replaces the buffer, so the cached view is checked each time.
  #dv(): DataView {
    const buffer = this.#memory?.buffer;
    if (!buffer) return fail(Errno.FAULT, "guest memory is not bound");
    if (this.#view?.buffer !== buffer) this.#view = new DataView(buffer);
    return this.#view;
  }

  #check(ptr: number, len: number): DataView {
    const dv = this.#dv();
    if (ptr + len > dv.byteLength) fail(Errno.FAULT);
    return dv;
  }

  u8(ptr: number): number {
    ptr >>>= 0;
    return this.#check(ptr, 1).getUint8(ptr);
  }
  u16(ptr: number): number {
    ptr >>>= 0;
    return this.#check(ptr, 2).getUint16(ptr, true);
  }
  u32(ptr: number): number {
    ptr >>>= 0;
    return this.#check(ptr, 4).getUint32(ptr, true);
  }
  u64(ptr: number): bigint {
    ptr >>>= 0;
    return this.#check(ptr, 8).getBigUint64(ptr, true);
  }
  setU8(ptr: number, v: number): void {
    ptr >>>= 0;
    this.#check(ptr, 1).setUint8(ptr, v);
  }
  setU16(ptr: number, v: number): void {
    ptr >>>= 0;
    this.#check(ptr, 2).setUint16(ptr, v, true);
  }
  setU32(ptr: number, v: number): void {
    ptr >>>= 0;
    this.#check(ptr, 4).setUint32(ptr, v >>> 0, true);
  }
  setU64(ptr: number, v: bigint): void {
    ptr >>>= 0;
    this.#check(ptr, 8).setBigUint64(ptr, BigInt.asUintN(64, v), true);
  }

  /** A live view of guest bytes (valid until the guest runs again). */
  bytes(ptr: number, len: number): Uint8Array {
    ptr >>>= 0;
    len >>>= 0;
    const dv = this.#check(ptr, len);
    return new Uint8Array(dv.buffer, ptr, len);
  }

  /** A copy of guest bytes, safe to keep across awaits and to hand to callbacks. */
  copy(ptr: number, len: number): Uint8Array {
    return this.bytes(ptr, len).slice();
  }

  write(ptr: number, data: Uint8Array): void {
    this.bytes(ptr, data.byteLength).set(data);
  }

  zero(ptr: number, len: number): void {
    this.bytes(ptr, len).fill(0);
  }

  /** A UTF-8 string from guest memory; invalid UTF-8 is EILSEQ. */
  string(ptr: number, len: number): string {
    try {
      return utf8.decode(this.bytes(ptr, len));
    } catch (err) {
      if (err instanceof TypeError) fail(Errno.ILSEQ);
      throw err;
    }
  }

  iovecs(ptr: number, count: number): Iovec[] {
    ptr >>>= 0;
    count >>>= 0;
    this.bytes(ptr, count * 8);
    const out: Iovec[] = [];
    for (let i = 0; i < count; i++) {
      const iov = { ptr: this.u32(ptr + i * 8), len: this.u32(ptr + i * 8 + 4) };
      this.bytes(iov.ptr, iov.len);
      out.push(iov);
    }
    return out;
  }

  /** Gathers iovecs, in order and up to `max` bytes, into one copied buffer (for writes). */
  gather(iovs: Iovec[], max: number): Uint8Array {
    let total = 0;
    for (const iov of iovs) total += iov.len;
    const out = new Uint8Array(Math.min(total, max));
    let at = 0;
    for (const iov of iovs) {
      if (at >= out.byteLength) break;
      const n = Math.min(iov.len, out.byteLength - at);
      out.set(this.bytes(iov.ptr, n), at);
      at += n;
    }
    return out;
  }

  /** Scatters bytes over iovecs in order; returns how many were placed. */
  scatter(iovs: Iovec[], data: Uint8Array): number {
    let at = 0;
    for (const iov of iovs) {
      if (at >= data.byteLength) break;
      const n = Math.min(iov.len, data.byteLength - at);
      this.bytes(iov.ptr, n).set(data.subarray(at, at + n));
      at += n;
    }
    return at;
  }
}

/** Reads a path argument: NUL bytes and invalid UTF-8 are EILSEQ, empty is ENOENT. */
export function readPath(mem: GuestMemory, ptr: number, len: number): string {
  const bytes = mem.bytes(ptr, len);
  if (bytes.includes(0)) fail(Errno.ILSEQ);
  const path = mem.string(ptr, len);
  if (path === "") fail(Errno.NOENT);
  return path;
}
