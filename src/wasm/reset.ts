// The reset rewrite: a module whose state can be put back exactly as a new instance
// has it gets an export `__wippy_reset`, so that one instance can serve process after
// process (src/wasm/reuse.ts) instead of a `new WebAssembly.Instance` per spawn.
//
// - its data segments become passive, and `__wippy_reset` writes them where they were
//   active (after zeroing the memory, for a used instance); so the runtime calls it
//   right after instantiating too;
// - every defined mutable global gets its init expression again; the runtime's own
//   (`state`, the fuel counter, max_pages) get what the next process's budget says.
//
// Only a module whose whole state is in those two places qualifies: one memory of its
// own (32-bit, unshared) or none, no start function, no imported global, table or memory
// but the runtime's, no passive data segment, no instruction that changes a table or a
// data segment (table.set/grow/fill/copy/init, elem.drop, memory.init, data.drop), no
// mutable global of a reference type, and nothing the walk does not know (GC objects,
// newer proposals). Any other module is instantiated per process, as before.
//
// reset(zero, fuel, maxPages) → 1, or 0 (nothing done) when the memory has grown: a
// grown memory cannot shrink, so such an instance is not reused.

import type binaryenApi from "binaryen";
import { Reader } from "./binary.ts";
import { CHILDLESS, CHILDREN, childGetters } from "./fuel-ir.ts";

type Binaryen = typeof binaryenApi;
type BinaryenModule = binaryenApi.Module;

export const RESET_EXPORT = "__wippy_reset";
const PAGE = 65_536;

/** Instructions that change a table or a data segment: state the reset cannot put back. */
const FORBIDDEN = ["MemoryInit", "DataDrop", "TableSet", "TableGrow", "TableFill", "TableCopy", "TableInit", "ElemDrop"];

interface DataSegment {
  offset: number;
  data: Uint8Array;
}

interface Layout {
  memories: number;
  start: boolean;
  /** Undefined when some segment is passive or its offset is not an i32.const. */
  segments: DataSegment[] | undefined;
}

/** What binaryen.js does not tell: how many memories, a start section, and the data segments' constant offsets. */
function readLayout(bytes: Uint8Array): Layout {
  const r = new Reader(bytes);
  r.pos = 8;
  const layout: Layout = { memories: 0, start: false, segments: [] };
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0) r.u32();
        else if (kind === 1) {
          r.valtype();
          r.limits();
        } else if (kind === 2) {
          layout.memories++;
          r.limits();
        } else if (kind === 3) {
          r.valtype();
          r.byte();
        } else {
          r.byte();
          r.u32();
        }
      }
    } else if (id === 5) layout.memories += r.u32();
    else if (id === 8) layout.start = true;
    else if (id === 11) layout.segments = readDataSection(r);
    r.pos = end;
  }
  return layout;
}

function readDataSection(r: Reader): DataSegment[] | undefined {
  const out: DataSegment[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    if (flags !== 0) return undefined; // passive, or an explicit memory index
    if (r.byte() !== 0x41) return undefined; // i32.const
    const offset = sleb32(r);
    if (r.byte() !== 0x0b) return undefined; // end: nothing but the constant
    const len = r.u32();
    out.push({ offset: offset >>> 0, data: r.bytes.slice(r.pos, r.pos + len) });
    r.pos += len;
  }
  return out;
}

function sleb32(r: Reader): number {
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    b = r.byte();
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 35);
  return shift < 32 && b & 0x40 ? result | (~0 << shift) : result;
}

/** True when no defined function holds an instruction outside the walk's knowledge or one in FORBIDDEN. */
function codeKeepsTablesAndSegments(b: Binaryen, m: BinaryenModule): boolean {
  const api = b as unknown as Record<string, unknown> & { _BinaryenExpressionGetId(e: number): number; Function: { getBody(fn: number): number } };
  const getters = childGetters(b, CHILDREN);
  const childless = new Set(CHILDLESS.map((k) => api[`${k}Id`]).filter((v) => typeof v === "number"));
  const forbidden = new Set(FORBIDDEN.map((k) => api[`${k}Id`]));
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const fn = m.getFunctionByIndex(i);
    if (b.getFunctionInfo(fn).module) continue;
    const stack = [api.Function.getBody(fn)];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (!e) continue;
      const id = api._BinaryenExpressionGetId(e);
      if (forbidden.has(id)) return false;
      const children = getters.get(id);
      if (!children) {
        if (childless.has(id)) continue;
        return false; // a kind the walk cannot enter: it might hide anything
      }
      for (const g of children) {
        const v = g(e);
        if (Array.isArray(v)) for (const c of v as number[]) stack.push(c);
        else if (typeof v === "number" && v) stack.push(v);
      }
    }
  }
  return true;
}

const NUMERIC = (b: Binaryen) => new Set([b.i32, b.i64, b.f32, b.f64, b.v128]);

/**
 * Adds `__wippy_reset` when the module qualifies (see the top of the file); false, and
 * nothing changed, when it does not. `original` is the module as the guest shipped it;
 * `runtimeModule` the import module name of the runtime's own imports. Call it before
 * the memory becomes an import.
 */
export function addReset(b: Binaryen, m: BinaryenModule, original: Uint8Array, runtimeModule: string, idleState: number): boolean {
  if (m.getExport(RESET_EXPORT)) return false;
  let layout: Layout;
  try {
    layout = readLayout(original);
  } catch {
    return false; // a section this reader does not follow: leave the module as it is
  }
  if (layout.start || layout.memories > 1 || !layout.segments) return false;
  const segments = layout.segments;
  let memory: { initial: number; max: number | undefined } | undefined;
  if (m.hasMemory()) {
    const info = m.getMemoryInfo();
    if (info.module || info.shared || info.is64 || info.initial >= PAGE) return false;
    memory = { initial: info.initial, max: info.max };
    if (segments.some((s) => s.offset + s.data.length > info.initial * PAGE)) return false; // would not instantiate anyway
  } else if (segments.length > 0) return false;
  if ((m as unknown as { getNumDataSegments(): number }).getNumDataSegments() !== segments.length) return false;
  for (let i = 0; i < m.getNumTables(); i++) if (b.getTableInfo(m.getTableByIndex(i)).module) return false;
  const numeric = NUMERIC(b);
  const globals: { name: string; type: number; init: number }[] = [];
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = b.getGlobalInfo(m.getGlobalByIndex(i));
    if (g.module) {
      if (g.module !== runtimeModule) return false;
      continue;
    }
    if (!g.mutable) continue;
    if (!numeric.has(g.type)) return false;
    globals.push({ name: g.name, type: g.type, init: g.init });
  }
  if (!codeKeepsTablesAndSegments(b, m)) return false;

  const { i32 } = b;
  const body: number[] = [];
  if (memory) {
    const names = segments.map((_, i) => `__wippy_data_${i}`);
    m.setMemory(memory.initial, memory.max ?? -1, null, segments.map((s, i) => ({ name: names[i], offset: 0, data: s.data, passive: true })), false, false, "0");
    const now = m.getMemoryInfo();
    if (now.initial !== memory.initial || now.max !== memory.max) throw new Error("could not make the data segments passive");
    body.push(m.if(m.i32.ne(m.memory.size(), m.i32.const(memory.initial)), m.return(m.i32.const(0))));
    body.push(m.if(m.local.get(0, i32), m.memory.fill(m.i32.const(0), m.i32.const(0), m.i32.const((memory.initial * PAGE) | 0))));
    segments.forEach((s, i) => body.push(m.memory.init(names[i]!, m.i32.const(s.offset | 0), m.i32.const(0), m.i32.const(s.data.length))));
  }
  for (const g of globals) {
    const value =
      g.name === "__wippy_fuel" ? m.local.get(1, i32) : g.name === "__wippy_max_pages" ? m.local.get(2, i32) : m.copyExpression(g.init);
    body.push(m.global.set(g.name, value));
  }
  // the instance's own `state` (imported, so the host can read it): idle, as a new one starts
  if (m.getGlobal("__wippy_state")) body.push(m.global.set("__wippy_state", m.i32.const(idleState)));
  body.push(m.i32.const(1));
  m.addFunction(RESET_EXPORT, b.createType([i32, i32, i32]), i32, [], m.block(null, body, i32));
  m.addFunctionExport(RESET_EXPORT, RESET_EXPORT);
  return true;
}
