// Reads just enough of a WebAssembly binary to know what it is and what a
// core module's exported functions take and return — the JS API has no type
// reflection, and a clear "argument 2 must be an i32" needs the signature.

export type BinaryKind = "core" | "component";

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "ref";

export interface FuncSignature {
  params: ValType[];
  results: ValType[];
}

export interface CoreInfo {
  imports: { module: string; name: string; kind: "func" | "table" | "memory" | "global" | "tag" }[];
  /** Exported functions by name. */
  functions: Map<string, FuncSignature>;
  /** Defined (not imported) memory: initial/maximum in 64 KiB pages. */
  memory?: { initial: number; maximum?: number; imported: boolean };
}

export function detectKind(bytes: Uint8Array): BinaryKind {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("not a WebAssembly binary (the file does not start with the \\0asm magic bytes)");
  }
  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer === 0 && version === 1) return "core";
  if (layer === 1) return "component";
  throw new Error(`unsupported WebAssembly binary version ${version} (layer ${layer})`);
}

const VALTYPES: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128" };

export class Reader {
  pos = 0;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("truncated WebAssembly binary");
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new Error("malformed LEB128 in WebAssembly binary");
    }
  }
  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  valtype(): ValType {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) {
      this.u32(); // heap type index (typed function references)
      return "ref";
    }
    return VALTYPES[b] ?? "ref";
  }
  limits(): { initial: number; maximum?: number } {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = flags & 1 ? this.u32() : undefined;
    return maximum === undefined ? { initial } : { initial, maximum };
  }
}

/** Parses type, import, function, memory and export sections of a core module. */
export function readCoreInfo(bytes: Uint8Array): CoreInfo {
  const r = new Reader(bytes);
  r.pos = 8;
  const types: FuncSignature[] = [];
  const funcTypes: number[] = []; // function index → type index (imports first)
  const info: CoreInfo = { imports: [], functions: new Map() };
  const exports: { name: string; kind: number; index: number }[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const form = r.byte();
        if (form === 0x4e || form === 0x4f || form === 0x50) {
          // rec / sub groups (GC proposal): not needed for our callers; stop reading types.
          r.pos = end;
          break;
        }
        const params: ValType[] = [];
        for (let p = r.u32(); p > 0; p--) params.push(r.valtype());
        const results: ValType[] = [];
        for (let q = r.u32(); q > 0; q--) results.push(r.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          funcTypes.push(r.u32());
          info.imports.push({ module, name, kind: "func" });
        } else if (kind === 1) {
          r.valtype();
          r.limits();
          info.imports.push({ module, name, kind: "table" });
        } else if (kind === 2) {
          const l = r.limits();
          info.memory = { ...l, imported: true };
          info.imports.push({ module, name, kind: "memory" });
        } else if (kind === 3) {
          r.valtype();
          r.byte();
          info.imports.push({ module, name, kind: "global" });
        } else {
          r.byte();
          r.u32();
          info.imports.push({ module, name, kind: "tag" });
        }
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
    } else if (id === 5) {
      const n = r.u32();
      if (n > 0 && !info.memory) info.memory = { ...r.limits(), imported: false };
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = r.byte();
        exports.push({ name, kind, index: r.u32() });
      }
    }
    r.pos = end;
  }
  for (const e of exports) {
    if (e.kind !== 0) continue;
    const sig = types[funcTypes[e.index] ?? -1];
    if (sig) info.functions.set(e.name, sig);
  }
  return info;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Imported plus defined functions of a core module (the index space names refer to). */
function functionCount(bytes: Uint8Array): number {
  const r = new Reader(bytes);
  r.pos = 8;
  let count = 0;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 3) count += r.u32();
    if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0) {
          count++;
          r.u32();
        } else if (kind === 1) {
          r.valtype();
          r.limits();
        } else if (kind === 2) r.limits();
        else if (kind === 3) {
          r.valtype();
          r.byte();
        } else if (kind === 4) {
          r.byte();
          r.u32();
        } else throw new Error("unknown import kind");
      }
    }
    r.pos = end;
  }
  return count;
}

/** Function names (name subsection 1), checked entry by entry; undefined when malformed. */
function functionNames(bytes: Uint8Array, functions: number): Uint8Array | undefined {
  const s = new Reader(bytes);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const count = s.u32();
  let last = -1;
  for (let i = 0; i < count; i++) {
    const index = s.u32();
    if (index <= last || index >= functions) return undefined;
    last = index;
    const len = s.u32();
    if (s.pos + len > bytes.length) return undefined;
    utf8.decode(bytes.subarray(s.pos, s.pos + len));
    s.pos += len;
  }
  return s.pos === bytes.length ? bytes : undefined;
}

/**
 * Keeps, of a core module's custom sections, only the function names of its name
 * section (what traces show). binaryen prints warnings on stderr about the rest (local
 * names out of range, newer subsections, malformed names) that V8 ignores; a name
 * section that does not parse is dropped whole.
 */
export function trimNameSection(bytes: Uint8Array): Uint8Array {
  const r = new Reader(bytes);
  r.pos = 8;
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let changed = false;
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const body = r.pos;
    const end = body + size;
    r.pos = end;
    if (id !== 0) {
      parts.push(bytes.subarray(start, end));
      continue;
    }
    changed = true;
    let names: Uint8Array | undefined;
    try {
      const s = new Reader(bytes.subarray(body, end));
      if (s.name() !== "name") continue;
      while (s.pos < s.bytes.length) {
        const sub = s.byte();
        const len = s.u32();
        if (sub === 1) names = functionNames(s.bytes.subarray(s.pos, s.pos + len), functionCount(bytes));
        s.pos += len;
      }
    } catch {
      names = undefined;
    }
    if (!names) continue;
    const content = [...uleb(4), ...new TextEncoder().encode("name"), 1, ...uleb(names.length)];
    parts.push(new Uint8Array([0, ...uleb(content.length + names.length), ...content]), names);
  }
  if (!changed) return bytes;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
