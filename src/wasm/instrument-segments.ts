// The segments and the function names of the binary instrumenter: element segments and
// names hold function indices, which move up by the number of functions it imports;
// offsets of both kinds of segment may read globals, which move too.

import type { CodeRemap, CodeRewriter } from "./instrument-code.ts";
import { ByteReader, ByteWriter, unsupported } from "./wasm-bytes.ts";
import type { Range } from "./wasm-module.ts";

function remapFunction(plan: CodeRemap, f: number): number {
  return f < plan.importedFunctions ? f : f + plan.addedFunctions;
}

/**
 * Element segments, all eight forms: bit 0 passive or declarative, bit 1 an explicit
 * table (active) or declarative (passive), bit 2 expressions instead of function indices.
 * `declare` (new indices) are added as one declarative segment: a function that was only
 * exported may be the target of a `ref.func`, which needs it declared once its export
 * names the guard instead.
 */
export function writeElements(out: ByteWriter, bytes: Uint8Array, range: Range | undefined, plan: CodeRemap, constants: CodeRewriter, declare: number[]): void {
  if (!range && declare.length === 0) return;
  const r = range ? new ByteReader(bytes, range.start, range.end) : undefined;
  const s = new ByteWriter((range ? range.end - range.start : 0) + 5 * declare.length + 64);
  const count = r ? r.u32() : 0;
  s.u32(count + (declare.length > 0 ? 1 : 0));
  for (let i = 0; i < count && r; i++) {
    const flags = r.u32();
    if (flags > 7) unsupported(`element segment flags ${flags}`);
    s.u32(flags);
    const active = (flags & 1) === 0;
    const explicitTable = (flags & 2) !== 0;
    const expressions = (flags & 4) !== 0;
    if (active && explicitTable) s.u32(r.u32());
    if (active) constants.expression(r, s, -1);
    if (!active || explicitTable) {
      // elemkind (0x00: funcref) for indices, a reference type for expressions
      const kind = r.byte();
      if (expressions ? kind !== 0x70 && kind !== 0x6f : kind !== 0) unsupported(`element kind 0x${kind.toString(16)}`);
      s.byte(kind);
    }
    const n = r.u32();
    s.u32(n);
    for (let k = 0; k < n; k++) {
      if (expressions) constants.expression(r, s, -1);
      else s.u32(remapFunction(plan, r.u32()));
    }
  }
  if (r && r.pos !== r.end) unsupported("bytes after the last element segment");
  if (declare.length > 0) {
    s.u32(3); // declarative, function indices
    s.byte(0); // elemkind funcref
    s.u32(declare.length);
    for (const f of declare) s.u32(f);
  }
  out.section(9, s);
}

/**
 * The `name` section's function names (subsection 1), renumbered; the other
 * subsections (locals, labels, ...) are dropped. A malformed one is dropped whole.
 */
export function writeFunctionNames(out: ByteWriter, bytes: Uint8Array, range: Range, plan: CodeRemap, functions: number): void {
  let names: ByteWriter | undefined;
  try {
    const r = new ByteReader(bytes, range.start, range.end);
    while (r.pos < range.end) {
      const sub = r.byte();
      const len = r.u32();
      const end = r.pos + len;
      if (sub !== 1) {
        r.skip(len);
        continue;
      }
      if (end > range.end) return;
      names = renumberNames(new ByteReader(bytes, r.pos, end), plan, functions);
      r.pos = end;
    }
  } catch {
    names = undefined;
  }
  if (!names) return;
  const content = new ByteWriter(names.len + 16);
  content.name("name");
  content.byte(1);
  content.u32(names.len);
  content.bytes(names.buf, 0, names.len);
  out.section(0, content);
}

function renumberNames(r: ByteReader, plan: CodeRemap, functions: number): ByteWriter | undefined {
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const w = new ByteWriter(r.end - r.pos + 64);
  const count = r.u32();
  w.u32(count);
  let last = -1;
  for (let i = 0; i < count; i++) {
    const index = r.u32();
    if (index <= last || index >= functions) return undefined;
    last = index;
    const name = r.nameBytes();
    utf8.decode(name);
    w.u32(remapFunction(plan, index));
    w.u32(name.length);
    w.bytes(name);
  }
  return r.pos === r.end ? w : undefined;
}

/** Data segments: their offsets rewritten, their bytes copied in one piece each. */
export function writeData(out: ByteWriter, bytes: Uint8Array, range: { start: number; end: number }, constants: CodeRewriter): void {
  const r = new ByteReader(bytes, range.start, range.end);
  out.byte(11);
  const sizeAt = out.reserveU32();
  const contentStart = out.len;
  const count = r.u32();
  out.u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    out.u32(flags);
    if (flags === 2) {
      if (r.u32() !== 0) unsupported("a data segment for a memory other than 0 (multi-memory)");
      out.u32(0);
    } else if (flags !== 0 && flags !== 1) unsupported(`data segment flags ${flags}`);
    if (flags !== 1) constants.expression(r, out, -1);
    const len = r.u32();
    const at = r.pos;
    r.skip(len);
    out.u32(len);
    out.bytes(bytes, at, at + len);
  }
  if (r.pos !== range.end) unsupported("bytes after the last data segment");
  out.patchU32(sizeAt, out.len - contentStart);
}
