// Reading and writing WebAssembly's byte encoding (LEB128 numbers, vectors, names)
// without building objects: the instrumenter (instrument-binary.ts) walks tens of
// megabytes of code with these, so the hot paths only move integers.

/** Something the binary instrumenter cannot rewrite; the caller may fall back to binaryen. */
export class BinaryInstrumentUnsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BinaryInstrumentUnsupported";
  }
}

export function unsupported(what: string): never {
  throw new BinaryInstrumentUnsupported(`binary instrumenter: ${what}`);
}

/** A cursor over input bytes. Every read checks the end, so a truncated module fails here. */
export class ByteReader {
  pos: number;
  end: number;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) unsupported("truncated module");
    return this.bytes[this.pos++]!;
  }
  /** An unsigned LEB128 of at most 32 bits. */
  u32(): number {
    const bytes = this.bytes;
    let b = this.pos < this.end ? bytes[this.pos++]! : this.byte();
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let shift = 7;
    for (;;) {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 28) unsupported("malformed LEB128");
    }
    if (result > 0xffffffff) unsupported("LEB128 out of range");
    return result;
  }
  /** Steps over a LEB128 of any width (signed or unsigned: only its length matters). */
  skipLeb(): void {
    const bytes = this.bytes;
    const end = this.end;
    let p = this.pos;
    for (let n = 0; n < 10; n++) {
      if (p >= end) unsupported("truncated module");
      if (bytes[p++]! < 0x80) {
        this.pos = p;
        return;
      }
    }
    unsupported("malformed LEB128");
  }
  skip(n: number): void {
    if (this.pos + n > this.end) unsupported("truncated module");
    this.pos += n;
  }
  /** A name's bytes (UTF-8), as a view. */
  nameBytes(): Uint8Array {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    return this.bytes.subarray(start, start + len);
  }
  name(): string {
    return new TextDecoder().decode(this.nameBytes());
  }
}

/** A growable output buffer: doubling, so appending is amortised O(1) and nothing is copied twice per growth. */
export class ByteWriter {
  buf: Uint8Array<ArrayBuffer>;
  len = 0;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }
  u32(n: number): void {
    this.ensure(5);
    const buf = this.buf;
    let len = this.len;
    n >>>= 0;
    while (n >= 0x80) {
      buf[len++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[len++] = n;
    this.len = len;
  }
  /** A signed LEB128 (i32.const). */
  s32(n: number): void {
    this.ensure(5);
    n |= 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }
  /** Five bytes kept for a u32 written later with patchU32 (a padded LEB128 is valid). */
  reserveU32(): number {
    this.ensure(5);
    const at = this.len;
    this.len += 5;
    return at;
  }
  patchU32(at: number, n: number): void {
    const buf = this.buf;
    for (let i = 0; i < 4; i++) {
      buf[at + i] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[at + 4] = n & 0x7f;
  }
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    if (n < 32) {
      let len = this.len;
      for (let i = start; i < end; i++) buf[len++] = src[i]!;
      this.len = len;
    } else {
      buf.set(src.subarray(start, end), this.len);
      this.len += n;
    }
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  /** A section: id, size, then the content writer's bytes. */
  section(id: number, content: ByteWriter): void {
    this.rawSection(id, content.buf, 0, content.len);
  }
  rawSection(id: number, src: Uint8Array, start: number, end: number): void {
    this.byte(id);
    this.u32(end - start);
    this.bytes(src, start, end);
  }
  result(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.len);
  }
}
