// The layout of a core module as the binary instrumenter needs it: where each section
// is, the function types, what is imported, the memory, the exports. Only the small
// sections are decoded; the code, data and element sections are left as ranges.

import { ByteReader, unsupported } from "./wasm-bytes.ts";
import { valType } from "./wasm-ops.ts";

export interface Range {
  start: number;
  end: number;
}

export interface ModuleLayout {
  /** Content ranges of the standard sections, by id (1-12). */
  sections: (Range | undefined)[];
  /** The payload of the `name` custom section (after its name). */
  names?: Range;
  /** Each type's entry bytes, and its parameter and result counts. */
  types: { range: Range; params: number; results: number }[];
  /** The import entries (after the count) and how many. */
  imports: Range & { count: number };
  importedFunctions: number;
  importedGlobals: number;
  definedFunctions: number;
  definedGlobals: number;
  /** Type index of every function, imports first. */
  functionTypes: number[];
  /** Memory 0: imported or defined, its limits' bytes, shared or not. */
  memory?: { imported: boolean; limits: Range; shared: boolean };
  exports: { name: Uint8Array; kind: number; index: number }[];
  /** The first import from `module`, if any. */
  reserved?: { module: string; name: string };
}

/** Position of each section id in the order the binary format requires (13, tags, is refused). */
const ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12 };

export function readLayout(bytes: Uint8Array, reservedModule: string): ModuleLayout {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) unsupported("not a WebAssembly module");
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) unsupported("not a version 1 core module");
  const r = new ByteReader(bytes, 8);
  const layout: ModuleLayout = {
    sections: [],
    types: [],
    imports: { start: 0, end: 0, count: 0 },
    importedFunctions: 0,
    importedGlobals: 0,
    definedFunctions: 0,
    definedGlobals: 0,
    functionTypes: [],
    exports: [],
  };
  let last = 0;
  let memories = 0;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) unsupported("truncated section");
    r.pos = end;
    if (id === 0) {
      const s = new ByteReader(bytes, start, end);
      const name = s.name();
      if (name === "name") layout.names = { start: s.pos, end };
      continue;
    }
    if (id === 13) unsupported("a tag section (exception handling)");
    const rank = ORDER[id];
    if (rank === undefined) unsupported(`section id ${id}`);
    if (rank <= last) unsupported(`section ${id} out of order`);
    last = rank;
    layout.sections[id] = { start, end };
    const s = new ByteReader(bytes, start, end);
    if (id === 1) readTypes(s, layout);
    else if (id === 2) memories += readImports(s, layout, reservedModule);
    else if (id === 3) {
      const n = s.u32();
      layout.definedFunctions = n;
      for (let i = 0; i < n; i++) layout.functionTypes.push(s.u32());
    } else if (id === 4) readTables(s);
    else if (id === 5) {
      const n = s.u32();
      memories += n;
      if (n > 0) {
        const limits = readLimits(s, "memory");
        layout.memory ??= { imported: false, limits: limits.range, shared: limits.shared };
      }
    } else if (id === 6) layout.definedGlobals = s.u32();
    else if (id === 7) {
      for (let n = s.u32(); n > 0; n--) {
        const name = s.nameBytes();
        const kind = s.byte();
        layout.exports.push({ name, kind, index: s.u32() });
      }
    }
  }
  if (memories > 1) unsupported("more than one memory (multi-memory)");
  const total = layout.functionTypes.length;
  for (const t of layout.functionTypes) if (t >= layout.types.length) unsupported("a function of an unknown type");
  for (const e of layout.exports) if (e.kind === 0 && e.index >= total) unsupported("an export of an unknown function");
  const code = layout.sections[10];
  if (layout.definedFunctions > 0 && !code) unsupported("functions without a code section");
  return layout;
}

function readTypes(s: ByteReader, layout: ModuleLayout): void {
  for (let n = s.u32(); n > 0; n--) {
    const start = s.pos;
    const form = s.byte();
    if (form !== 0x60) unsupported(`type form 0x${form.toString(16)} (GC: rec, sub, struct, array)`);
    const params = s.u32();
    for (let i = 0; i < params; i++) valType(s);
    const results = s.u32();
    for (let i = 0; i < results; i++) valType(s);
    layout.types.push({ range: { start, end: s.pos }, params, results });
  }
}

/** Returns the number of imported memories. */
function readImports(s: ByteReader, layout: ModuleLayout, reservedModule: string): number {
  const count = s.u32();
  layout.imports = { start: s.pos, end: s.end, count };
  let memories = 0;
  for (let n = count; n > 0; n--) {
    const module = s.name();
    const name = s.name();
    if (module === reservedModule) layout.reserved ??= { module, name };
    const kind = s.byte();
    if (kind === 0) {
      layout.functionTypes.push(s.u32());
      layout.importedFunctions++;
    } else if (kind === 1) readTable(s);
    else if (kind === 2) {
      memories++;
      const limits = readLimits(s, "memory");
      layout.memory ??= { imported: true, limits: limits.range, shared: limits.shared };
    } else if (kind === 3) {
      valType(s);
      s.byte();
      layout.importedGlobals++;
    } else if (kind === 4) unsupported("an imported tag (exception handling)");
    else unsupported(`import kind ${kind}`);
  }
  return memories;
}

function readTables(s: ByteReader): void {
  for (let n = s.u32(); n > 0; n--) readTable(s);
}

function readTable(s: ByteReader): void {
  const t = s.byte();
  if (t === 0x40) unsupported("a table with an initialiser (typed function references)");
  if (t !== 0x70 && t !== 0x6f) unsupported(`table of type 0x${t.toString(16)} (typed references / GC)`);
  readLimits(s, "table");
}

function readLimits(s: ByteReader, what: "memory" | "table"): { range: Range; shared: boolean } {
  const start = s.pos;
  const flags = s.byte();
  if (flags & 4) unsupported(`a 64-bit ${what} (memory64)`);
  if (flags > 3) unsupported(`${what} limits flags 0x${flags.toString(16)}`);
  s.u32();
  if (flags & 1) s.u32();
  return { range: { start, end: s.pos }, shared: (flags & 2) !== 0 };
}
