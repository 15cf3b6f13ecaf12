// The same instrumentation as instrument.ts's binaryen path (fuel, the memory.grow
// check, export guards, the memory import), written straight into the module's bytes
// in one pass: no IR, so a module of tens of megabytes takes seconds and about twice
// its size in memory. No `__wippy_reset` (binaryen only): such a module is not reused.
//
// Added, all imported from `wippy` after the module's own imports (so every defined
// function and global moves up, and every reference to one is renumbered):
//   state (global mut i32); with fuel: yield_async, yield_sync () -> i32, fuel (global i32);
//   with a memory check: memory_limit (i32) -> (), max_pages (global i32); and with
//   importMemory, `memory` in place of the module's own plain memory 0.
// Defined after the module's own: the globals __wippy_fuel and __wippy_max_pages, the
// functions refill, fuel entry, grow check, then one guard per exported function.
// Custom sections are dropped, except the function names, renumbered.

import { isSyncExport, PREEMPT_MODULE, STATE_ENTRY, STATE_SYNC } from "./instrument.ts";
import { CodeRewriter, type CodeRemap } from "./instrument-code.ts";
import { ByteReader, ByteWriter, unsupported } from "./wasm-bytes.ts";
import { valType } from "./wasm-ops.ts";
import { type ModuleLayout, readLayout } from "./wasm-module.ts";
import { writeData, writeElements, writeFunctionNames } from "./instrument-segments.ts";

export { BinaryInstrumentUnsupported } from "./wasm-bytes.ts";

export interface BinaryInstrumentOptions {
  fuel: boolean;
  memory: boolean;
  importMemory?: boolean;
}

/** V8's limit on a function's locals (parameters included). */
const MAX_LOCALS = 50_000;
const PROGRESS_STEP = 1 << 20;

const I32 = 0x7f;

/** Where everything added lives, in the output's index spaces. */
interface Plan extends CodeRemap {
  fuel: boolean;
  memoryCheck: boolean;
  memoryImport: boolean;
  /** Imports (new indices). */
  yieldAsync: number;
  yieldSync: number;
  memoryLimit: number;
  state: number;
  fuel0: number;
  maxPages0: number;
  /** Own globals. */
  fuelGlobal: number;
  maxPagesGlobal: number;
  /** Own functions. */
  refill: number;
  entry: number;
  grow: number;
  firstWrapper: number;
  /** Type indices: () -> i32, (i32) -> (), (i32) -> i32; appended types after the module's. */
  voidI32: number;
  i32Void: number;
  i32I32: number;
  newTypes: Uint8Array[];
  /** The module's exported functions, in export order (each gets a guard). */
  guarded: { name: string; index: number }[];
}

function typeIndex(bytes: Uint8Array, layout: ModuleLayout, plan: { newTypes: Uint8Array[] }, entry: number[]): number {
  const want = Uint8Array.from(entry);
  for (let i = 0; i < layout.types.length; i++) {
    const { start, end } = layout.types[i]!.range;
    if (end - start === want.length && want.every((b, k) => bytes[start + k] === b)) return i;
  }
  plan.newTypes.push(want);
  return layout.types.length + plan.newTypes.length - 1;
}

function makePlan(bytes: Uint8Array, layout: ModuleLayout, opts: BinaryInstrumentOptions): Plan {
  const { importedFunctions: nf, importedGlobals: ng, definedFunctions: df, definedGlobals: dg, memory } = layout;
  const fuel = opts.fuel && df > 0;
  const memoryCheck = opts.memory && memory !== undefined;
  const memoryImport = (opts.importMemory ?? false) && memory !== undefined && !memory.imported && !memory.shared;
  const addedFunctions = (fuel ? 2 : 0) + (memoryCheck ? 1 : 0);
  const addedGlobals = 1 + (fuel ? 1 : 0) + (memoryCheck ? 1 : 0);
  const decoder = new TextDecoder();
  const guarded = layout.exports.filter((e) => e.kind === 0).map((e) => ({ name: decoder.decode(e.name), index: e.index }));
  const plan = { newTypes: [] as Uint8Array[] };
  const voidI32 = fuel ? typeIndex(bytes, layout, plan, [0x60, 0, 1, I32]) : -1;
  const i32Void = memoryCheck ? typeIndex(bytes, layout, plan, [0x60, 1, I32, 0]) : -1;
  const i32I32 = memoryCheck ? typeIndex(bytes, layout, plan, [0x60, 1, I32, 1, I32]) : -1;
  let nextFunction = nf + addedFunctions + df;
  const refill = fuel ? nextFunction++ : -1;
  const entry = fuel ? nextFunction++ : -1;
  const grow = memoryCheck ? nextFunction++ : -1;
  let nextGlobal = ng + addedGlobals + dg;
  return {
    importedFunctions: nf,
    addedFunctions,
    importedGlobals: ng,
    addedGlobals,
    growFunction: grow,
    refillFunction: refill,
    fuel,
    memoryCheck,
    memoryImport,
    yieldAsync: fuel ? nf : -1,
    yieldSync: fuel ? nf + 1 : -1,
    memoryLimit: memoryCheck ? nf + (fuel ? 2 : 0) : -1,
    state: ng,
    fuel0: fuel ? ng + 1 : -1,
    maxPages0: memoryCheck ? ng + 1 + (fuel ? 1 : 0) : -1,
    fuelGlobal: fuel ? nextGlobal++ : -1,
    maxPagesGlobal: memoryCheck ? nextGlobal++ : -1,
    refill,
    entry,
    grow,
    firstWrapper: nextFunction,
    voidI32,
    i32Void,
    i32I32,
    newTypes: plan.newTypes,
    guarded,
  };
}

/**
 * Instruments a core module (see the top of the file). Throws BinaryInstrumentUnsupported
 * for what it cannot rewrite (exception handling, GC, multi-memory, memory64, unknown
 * opcodes), and a plain Error for a module that imports from `wippy` itself.
 */
export function instrumentBinary(bytes: Uint8Array, opts: BinaryInstrumentOptions, onProgress?: (done: number, total: number) => void): Uint8Array<ArrayBuffer> {
  const layout = readLayout(bytes, PREEMPT_MODULE);
  if (layout.reserved) {
    throw new Error(`it imports ${layout.reserved.module}.${layout.reserved.name}: the import module name "${PREEMPT_MODULE}" is reserved for the runtime`);
  }
  const plan = makePlan(bytes, layout, opts);
  const constants = new CodeRewriter({ ...plan, growFunction: -1, refillFunction: -1 });
  const code = layout.sections[10];
  const out = new ByteWriter(bytes.length + (code ? (code.end - code.start) >> 3 : 0) + 4096);
  out.bytes(bytes, 0, 8);
  const raw = (id: number) => {
    const range = layout.sections[id];
    if (range) out.rawSection(id, bytes, range.start, range.end);
  };
  writeTypes(out, bytes, layout, plan);
  writeImports(out, bytes, layout, plan);
  writeFunctions(out, bytes, layout, plan);
  raw(4);
  if (!plan.memoryImport) raw(5);
  writeGlobals(out, bytes, layout, plan, constants);
  writeExports(out, layout, plan);
  const start = layout.sections[8];
  if (start) {
    const s = new ByteWriter(8);
    s.u32(remapFunction(plan, new ByteReader(bytes, start.start, start.end).u32()));
    out.section(8, s);
  }
  const declare = [...new Set(plan.guarded.map((g) => remapFunction(plan, g.index)))];
  writeElements(out, bytes, layout.sections[9], plan, constants, declare);
  raw(12);
  writeCode(out, bytes, layout, plan, onProgress);
  if (layout.sections[11]) writeData(out, bytes, layout.sections[11], constants);
  if (layout.names) writeFunctionNames(out, bytes, layout.names, plan, layout.functionTypes.length);
  return out.result();
}

export function remapFunction(plan: CodeRemap, f: number): number {
  return f < plan.importedFunctions ? f : f + plan.addedFunctions;
}

function remapGlobal(plan: CodeRemap, g: number): number {
  return g < plan.importedGlobals ? g : g + plan.addedGlobals;
}

/** The count of a vector section plus `added`, then its entries as they were. */
function countedCopy(s: ByteWriter, bytes: Uint8Array, range: { start: number; end: number } | undefined, added: number): void {
  if (!range) {
    s.u32(added);
    return;
  }
  const r = new ByteReader(bytes, range.start, range.end);
  s.u32(r.u32() + added);
  s.bytes(bytes, r.pos, range.end);
}

function writeTypes(out: ByteWriter, bytes: Uint8Array, layout: ModuleLayout, plan: Plan): void {
  if (!layout.sections[1] && plan.newTypes.length === 0) return;
  const s = new ByteWriter();
  countedCopy(s, bytes, layout.sections[1], plan.newTypes.length);
  for (const t of plan.newTypes) s.bytes(t);
  out.section(1, s);
}

function writeImports(out: ByteWriter, bytes: Uint8Array, layout: ModuleLayout, plan: Plan): void {
  const s = new ByteWriter();
  const added: ((s: ByteWriter) => void)[] = [];
  const func = (name: string, type: number) => added.push((s) => (s.name(PREEMPT_MODULE), s.name(name), s.byte(0), s.u32(type)));
  const global = (name: string, mutable: boolean) => added.push((s) => (s.name(PREEMPT_MODULE), s.name(name), s.byte(3), s.byte(I32), s.byte(mutable ? 1 : 0)));
  if (plan.fuel) {
    func("yield_async", plan.voidI32);
    func("yield_sync", plan.voidI32);
  }
  if (plan.memoryCheck) func("memory_limit", plan.i32Void);
  global("state", true);
  if (plan.fuel) global("fuel", false);
  if (plan.memoryCheck) global("max_pages", false);
  if (plan.memoryImport) {
    const limits = layout.memory!.limits;
    added.push((s) => (s.name(PREEMPT_MODULE), s.name("memory"), s.byte(2), s.bytes(bytes, limits.start, limits.end)));
  }
  s.u32(layout.imports.count + added.length);
  s.bytes(bytes, layout.imports.start, layout.imports.end);
  for (const add of added) add(s);
  out.section(2, s);
}

function writeFunctions(out: ByteWriter, bytes: Uint8Array, layout: ModuleLayout, plan: Plan): void {
  const types: number[] = [];
  if (plan.fuel) types.push(plan.voidI32, plan.voidI32);
  if (plan.memoryCheck) types.push(plan.i32I32);
  for (const g of plan.guarded) types.push(layout.functionTypes[g.index]!);
  if (!layout.sections[3] && types.length === 0) return;
  const s = new ByteWriter();
  countedCopy(s, bytes, layout.sections[3], types.length);
  for (const t of types) s.u32(t);
  out.section(3, s);
}

function writeGlobals(out: ByteWriter, bytes: Uint8Array, layout: ModuleLayout, plan: Plan, constants: CodeRewriter): void {
  const range = layout.sections[6];
  const added: [number, number][] = [];
  if (plan.fuel) added.push([plan.fuelGlobal, plan.fuel0]);
  if (plan.memoryCheck) added.push([plan.maxPagesGlobal, plan.maxPages0]);
  if (!range && added.length === 0) return;
  const s = new ByteWriter();
  s.u32(layout.definedGlobals + added.length);
  if (range) {
    const r = new ByteReader(bytes, range.start, range.end);
    for (let n = r.u32(); n > 0; n--) {
      s.byte(valType(r));
      s.byte(r.byte());
      constants.expression(r, s, -1);
    }
  }
  for (const [, from] of added) {
    s.byte(I32);
    s.byte(1); // mutable: an instance's own counter / limit
    s.byte(0x23);
    s.u32(from);
    s.byte(0x0b);
  }
  out.section(6, s);
}

function writeExports(out: ByteWriter, layout: ModuleLayout, plan: Plan): void {
  if (!layout.sections[7]) return;
  const s = new ByteWriter();
  s.u32(layout.exports.length);
  let wrapper = plan.firstWrapper;
  for (const e of layout.exports) {
    s.u32(e.name.length);
    s.bytes(e.name);
    s.byte(e.kind);
    s.u32(e.kind === 0 ? wrapper++ : e.kind === 3 ? remapGlobal(plan, e.index) : e.index);
  }
  out.section(7, s);
}

function writeCode(out: ByteWriter, bytes: Uint8Array, layout: ModuleLayout, plan: Plan, onProgress?: (done: number, total: number) => void): void {
  const range = layout.sections[10];
  const extra = (plan.fuel ? 2 : 0) + (plan.memoryCheck ? 1 : 0) + plan.guarded.length;
  if (!range && extra === 0) return;
  out.byte(10);
  const sizeAt = out.reserveU32();
  const contentStart = out.len;
  out.u32(layout.definedFunctions + extra);
  if (range) {
    const r = new ByteReader(bytes, range.start, range.end);
    if (r.u32() !== layout.definedFunctions) unsupported("the code section's count differs from the function section's");
    const total = range.end - range.start;
    const rewriter = new CodeRewriter(plan);
    const f = new ByteReader(bytes);
    const head = new ByteWriter(64);
    const body = new ByteWriter(1 << 16);
    let reported = r.pos;
    for (let i = 0; i < layout.definedFunctions; i++) {
      const size = r.u32();
      f.pos = r.pos;
      f.end = r.pos + size;
      if (f.end > range.end) unsupported("truncated function body");
      const groups = f.u32();
      const groupsStart = f.pos;
      let locals = layout.types[layout.functionTypes[layout.importedFunctions + i]!]!.params;
      for (let g = 0; g < groups; g++) {
        locals += f.u32();
        valType(f);
      }
      const groupsEnd = f.pos;
      body.len = 0;
      rewriter.expression(f, body, locals); // the countdown local goes after the others
      if (f.pos !== f.end) unsupported("a function body longer than its code");
      const checked = plan.fuel && (rewriter.calls || rewriter.loops); // else a leaf: bounded, its caller paid
      const countdown = checked && rewriter.loops;
      if (countdown && locals + 1 > MAX_LOCALS) unsupported(`a function with ${locals} locals (the fuel countdown needs one more)`);
      head.len = 0;
      head.u32(groups + (countdown ? 1 : 0));
      head.bytes(bytes, groupsStart, groupsEnd);
      if (countdown) (head.byte(1), head.byte(I32));
      if (checked) {
        head.byte(0x10);
        head.u32(plan.entry);
        if (countdown) (head.byte(0x21), head.u32(locals));
        else head.byte(0x1a); // drop
      }
      out.u32(head.len + body.len);
      out.bytes(head.buf, 0, head.len);
      out.bytes(body.buf, 0, body.len);
      r.pos = f.end;
      if (onProgress && r.pos - reported >= PROGRESS_STEP) {
        reported = r.pos;
        onProgress(r.pos - range.start, total);
      }
    }
    if (r.pos !== range.end) unsupported("bytes after the last function body");
    onProgress?.(total, total);
  }
  writeHelpers(out, plan);
  for (const g of plan.guarded) writeGuard(out, layout, plan, g);
  out.patchU32(sizeAt, out.len - contentStart);
}

/** One function body: no locals but `locals` i32s, then the code `build` writes, then end. */
function body(out: ByteWriter, locals: number, build: (w: ByteWriter) => void): void {
  const w = new ByteWriter(64);
  if (locals > 0) (w.u32(1), w.u32(locals), w.byte(I32));
  else w.u32(0);
  build(w);
  w.byte(0x0b);
  out.u32(w.len);
  out.bytes(w.buf, 0, w.len);
}

function writeHelpers(out: ByteWriter, p: Plan): void {
  const op = (w: ByteWriter, code: number, index: number) => (w.byte(code), w.u32(index));
  if (p.fuel) {
    // refill: fuel = state == ENTRY ? yield_async() : yield_sync(); return fuel
    body(out, 0, (w) => {
      op(w, 0x23, p.state);
      (w.byte(0x41), w.s32(STATE_ENTRY), w.byte(0x46)); // i32.const, i32.eq
      (w.byte(0x04), w.byte(I32)); // if (result i32)
      op(w, 0x10, p.yieldAsync);
      w.byte(0x05);
      op(w, 0x10, p.yieldSync);
      w.byte(0x0b);
      op(w, 0x24, p.fuelGlobal);
      op(w, 0x23, p.fuelGlobal);
    });
    // entry: fuel -= 1; if (fuel < 0) refill(); return fuel
    body(out, 0, (w) => {
      op(w, 0x23, p.fuelGlobal);
      (w.byte(0x41), w.s32(1), w.byte(0x6b)); // i32.sub
      op(w, 0x24, p.fuelGlobal);
      op(w, 0x23, p.fuelGlobal);
      (w.byte(0x41), w.s32(0), w.byte(0x48)); // i32.lt_s
      (w.byte(0x04), w.byte(0x40));
      op(w, 0x10, p.refill);
      (w.byte(0x1a), w.byte(0x0b)); // drop, end
      op(w, 0x23, p.fuelGlobal);
    });
  }
  if (p.memoryCheck) {
    // grow(delta): if (memory.size + delta >u max_pages) memory_limit(delta); memory.grow(delta)
    body(out, 0, (w) => {
      (w.byte(0x3f), w.byte(0), w.byte(0x20), w.byte(0), w.byte(0x6a)); // memory.size, local.get 0, i32.add
      op(w, 0x23, p.maxPagesGlobal);
      (w.byte(0x4b), w.byte(0x04), w.byte(0x40), w.byte(0x20), w.byte(0)); // i32.gt_u, if, local.get 0
      op(w, 0x10, p.memoryLimit);
      (w.byte(0x0b), w.byte(0x20), w.byte(0), w.byte(0x40), w.byte(0)); // end, local.get 0, memory.grow
    });
  }
}

/**
 * An export's guard: saved = state; state = sync ? SYNC : (saved == 0 ? ENTRY : saved);
 * the original's results stay on the stack while state is put back.
 */
function writeGuard(out: ByteWriter, layout: ModuleLayout, p: Plan, g: { name: string; index: number }): void {
  const params = layout.types[layout.functionTypes[g.index]!]!.params;
  const saved = params;
  body(out, 1, (w) => {
    (w.byte(0x23), w.u32(p.state), w.byte(0x21), w.u32(saved));
    if (isSyncExport(g.name)) (w.byte(0x41), w.s32(STATE_SYNC));
    else (w.byte(0x41), w.s32(STATE_ENTRY), w.byte(0x20), w.u32(saved), w.byte(0x20), w.u32(saved), w.byte(0x45), w.byte(0x1b)); // select(ENTRY, saved, saved == 0)
    (w.byte(0x24), w.u32(p.state));
    for (let i = 0; i < params; i++) (w.byte(0x20), w.u32(i));
    (w.byte(0x10), w.u32(remapFunction(p, g.index)));
    (w.byte(0x20), w.u32(saved), w.byte(0x24), w.u32(p.state));
  });
}
