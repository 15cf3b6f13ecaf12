// Load-time instrumentation with binaryen, so that no guest can hold the thread.
//
// - fuel: binaryen's `log-execution` pass marks every function entry and loop header.
//   Loop headers then count down a local (cheap: a register), function entries a
//   global; when either runs out the guest calls the host (`yield_*`), which charges
//   the process's fuel, checks its limits and may suspend it through JSPI. The marks
//   are rewritten in binaryen's IR (fuel-ir.ts), or through the text form when that
//   walk cannot see every mark (fuel-sites.ts).
// - memory: every `memory.grow` is checked against the process's `max_memory`
//   (binaryen's `instrument-memory` pass, filtered to `memory.grow`).
// - export guards: the shared `state` global says whether the stack may be suspended.
//   Only under an entry export called through WebAssembly.promising; never inside
//   `cabi_realloc`, post-return or `_initialize`, which JS calls synchronously.
//
// - memory import (core modules and components' core modules): the module's own memory
//   becomes `wippy.memory`, so the host can hand it one from its pool.
// - reset (core modules the runtime instantiates itself): an export that puts the
//   instance back as new, so that it can serve the next process (reset.ts).
//
// Everything added is imported from the `wippy` module (see preempt-imports.ts).

import type binaryenApi from "binaryen";
import { readCoreInfo, trimNameSection } from "./binary.ts";
import { rewriteFuelIR } from "./fuel-ir.ts";
import { rewriteFuelSites } from "./fuel-sites.ts";
import { unrollSmallLoops } from "./fuel-unroll.ts";
import { addReset } from "./reset.ts";

type Binaryen = typeof binaryenApi;
type BinaryenModule = binaryenApi.Module;
type ExpressionRef = binaryenApi.ExpressionRef;

export const PREEMPT_MODULE = "wippy";

export interface InstrumentOptions {
  /** Fuel counting and preemption points. */
  fuel: boolean;
  /** `memory.grow` checked against `max_memory`. */
  memory: boolean;
  /** The module's own memory becomes the import `wippy.memory`, so a host can hand it a pooled one. */
  importMemory?: boolean;
  /** Adds `__wippy_reset` when the module qualifies (reset.ts); its data segments then become passive. */
  reset?: boolean;
  /** Rewrite the fuel marks through the text form even when the IR walk could (tests compare both). */
  viaText?: boolean;
  /**
   * `binary`: the one-pass rewrite of the bytes (instrument-binary.ts); it has no `reset`
   * (the module is then not reused) and throws BinaryInstrumentUnsupported for what it
   * cannot rewrite. `binaryen`: binaryen's passes, with reset and unrolled small loops, but
   * about 0.7 s and 25 MB of memory per MB of module. `auto` (the default): binaryen below
   * BINARY_ENGINE_FROM, the byte rewrite from there on, falling back to binaryen for what it
   * cannot rewrite. WIPPY_INSTRUMENT_ENGINE overrides it (resolvedEngine).
   */
  engine?: InstrumentEngine;
  /** The byte rewrite's share done (of the code section), reported as it goes (synchronously). */
  onProgress?: (done: number, total: number) => void;
}

export type InstrumentEngine = "auto" | "binaryen" | "binary";

/**
 * From this size on, `auto` takes the byte rewrite: binaryen would take over a second (a
 * 7.7 MB module: 10 s and 390 MB; CRuby's 30 MB: 50 s and 900 MB), the byte rewrite takes
 * about 10 ms a MB. Below it binaryen's slower but richer output (reset, unrolled loops) wins.
 */
export const BINARY_ENGINE_FROM = 1 << 20;

/** The engine asked for: WIPPY_INSTRUMENT_ENGINE (a test pass of everything through one engine), else the option. */
export function resolvedEngine(engine: InstrumentEngine = "auto"): InstrumentEngine {
  const forced = process.env.WIPPY_INSTRUMENT_ENGINE;
  return forced === "binary" || forced === "binaryen" || forced === "auto" ? forced : engine;
}

/** Values of the `state` global: what is on the guest's stack. */
export const STATE_IDLE = 0;
/** Under an entry export: the yield may suspend. */
export const STATE_ENTRY = 1;
/** Under realloc / post-return / init, called synchronously by JS: it must not. */
export const STATE_SYNC = 2;

/**
 * Exports JS calls synchronously (jco's glue: realloc, post-return, resource
 * destructors; instantiation: `_initialize`): the stack under them must never suspend.
 */
export function isSyncExport(name: string): boolean {
  return name.startsWith("cabi_") || name === "_initialize" || name.startsWith("__") || name.startsWith("[dtor]");
}

let binaryenModule: Promise<Binaryen> | undefined;
function loadBinaryen(): Promise<Binaryen> {
  binaryenModule ??= import("binaryen").then((m) => m.default);
  return binaryenModule;
}

const FUEL_MARK = "__wippy_fuel_mark";

function importedFunctions(b: Binaryen, m: BinaryenModule): { name: string; module: string; base: string }[] {
  const out = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module) out.push({ name: info.name, module: info.module, base: info.base ?? "" });
  }
  return out;
}

function definedFunctions(b: Binaryen, m: BinaryenModule): string[] {
  const out: string[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (!info.module) out.push(info.name);
  }
  return out;
}

/** Instruments a core module; returns new bytes. Throws if neither engine can read it. */
export async function instrumentCore(bytes: Uint8Array, opts: InstrumentOptions): Promise<Uint8Array> {
  const engine = resolvedEngine(opts.engine);
  if (engine === "binary" || (engine === "auto" && bytes.length >= BINARY_ENGINE_FROM)) {
    const { instrumentBinary } = await import("./instrument-binary.ts");
    const { BinaryInstrumentUnsupported } = await import("./wasm-bytes.ts");
    if (engine === "binary") return instrumentBinary(bytes, opts, opts.onProgress);
    try {
      const out = instrumentBinary(bytes, opts, opts.onProgress);
      // a module V8 would refuse is never the answer: binaryen has the last word
      if (WebAssembly.validate(out)) return out;
    } catch (err) {
      if (!(err instanceof BinaryInstrumentUnsupported)) throw err;
    }
  }
  return instrumentWithBinaryen(bytes, opts);
}

async function instrumentWithBinaryen(bytes: Uint8Array, opts: InstrumentOptions): Promise<Uint8Array> {
  if (!opts.reset) return instrumentOnce(bytes, opts);
  try {
    return await instrumentOnce(bytes, opts);
  } catch {
    // the reset is an optimisation: a module it trips up is instrumented as before (and a real failure fails again)
    return instrumentOnce(bytes, { ...opts, reset: false });
  }
}

async function instrumentOnce(bytes: Uint8Array, opts: InstrumentOptions): Promise<Uint8Array> {
  // `wippy` is ours: a guest importing from it could reach the preemption state itself
  const reserved = readCoreInfo(bytes).imports.find((i) => i.module === PREEMPT_MODULE);
  if (reserved) throw new Error(`it imports ${reserved.module}.${reserved.name}: the import module name "${PREEMPT_MODULE}" is reserved for the runtime`);
  const b = await loadBinaryen();
  let m = b.readBinaryWithFeatures(trimNameSection(bytes), b.Features.All);
  try {
    const before = new Set(importedFunctions(b, m).map((f) => `${f.module}.${f.base}`));
    // the fuel rewrite adds `state` itself: the text it parses refers to it
    if (opts.fuel) m = addFuel(b, m, opts.viaText ?? false);
    else m.addGlobalImport("__wippy_state", PREEMPT_MODULE, "state", b.i32, true);
    if (opts.memory && m.hasMemory() && !m.getMemoryInfo().is64) addMemoryCheck(b, m, before);
    guardExports(b, m);
    // after the guards (the reset is called synchronously, unguarded), before the memory becomes an import
    if (opts.reset) addReset(b, m, bytes, PREEMPT_MODULE, STATE_IDLE);
    if (opts.importMemory) importMemory(m);
    if (!m.validate()) throw new Error("instrumented module does not validate");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/**
 * Marks entries and loop headers with log-execution, then rewrites the marks in the IR
 * (fuel-ir.ts), or, if that walk cannot see every mark, through the text form
 * (fuel-sites.ts). Returns the module to go on with (the text path makes a new one).
 */
function addFuel(b: Binaryen, m: BinaryenModule, viaText: boolean): BinaryenModule {
  unrollSmallLoops(b, m, definedFunctions(b, m));
  b.setPassArgument("log-execution", FUEL_MARK);
  try {
    m.runPasses(["log-execution"]);
  } finally {
    b.setPassArgument("log-execution", null);
  }
  const imported = importedFunctions(b, m);
  const mark = imported.find((f) => f.module === FUEL_MARK);
  if (!mark) {
    m.addGlobalImport("__wippy_state", PREEMPT_MODULE, "state", b.i32, true);
    return m; // no functions, nothing to count
  }
  if (!viaText && rewriteFuelIR(b, m, mark.name, definedFunctions(b, m))) {
    m.removeFunction(mark.name);
    addFuelFunctions(b, m);
    return m;
  }
  const features = m.getFeatures();
  const text = rewriteFuelSites(m.emitText(), FUEL_MARK);
  m.dispose();
  const next = b.parseText(text);
  next.setFeatures(features);
  // the text declares the helpers as placeholder imports: the real ones take their names
  for (const f of importedFunctions(b, next)) if (f.module === FUEL_MARK) next.removeFunction(f.name);
  addFuelFunctions(b, next);
  return next;
}

/** What the rewritten marks call, whichever rewrite placed the calls. */
function addFuelFunctions(b: Binaryen, m: BinaryenModule): void {
  const { i32, none } = b;
  m.addGlobalImport("__wippy_state", PREEMPT_MODULE, "state", i32, true);
  m.addFunctionImport("__wippy_yield_async", PREEMPT_MODULE, "yield_async", none, i32);
  m.addFunctionImport("__wippy_yield_sync", PREEMPT_MODULE, "yield_sync", none, i32);
  // the first grant comes with the instance (wippy.fuel), so a short call never calls the host
  m.addGlobalImport("__wippy_fuel0", PREEMPT_MODULE, "fuel", i32, false);
  m.addGlobal("__wippy_fuel", i32, true, m.global.get("__wippy_fuel0", i32));
  const fuel = () => m.global.get("__wippy_fuel", i32);
  // refill: fuel = state == ENTRY ? yield_async() : yield_sync(); return fuel
  m.addFunction("__wippy_refill", none, i32, [], m.block(null, [
    m.global.set("__wippy_fuel", m.if(
      m.i32.eq(m.global.get("__wippy_state", i32), m.i32.const(STATE_ENTRY)),
      m.call("__wippy_yield_async", [], i32),
      m.call("__wippy_yield_sync", [], i32),
    )),
    fuel(),
  ], i32));
  // entry: fuel -= 1; if (fuel < 0) refill(); return fuel (the function's loop budget)
  m.addFunction("__wippy_fuel_entry", none, i32, [], m.block(null, [
    m.global.set("__wippy_fuel", m.i32.sub(fuel(), m.i32.const(1))),
    m.if(m.i32.lt_s(fuel(), m.i32.const(0)), m.drop(m.call("__wippy_refill", [], i32))),
    fuel(),
  ], i32));
}

function addMemoryCheck(b: Binaryen, m: BinaryenModule, before: Set<string>): void {
  const { i32, none } = b;
  b.setPassArgument("instrument-memory", "memory.grow");
  try {
    m.runPasses(["instrument-memory"]);
  } finally {
    b.setPassArgument("instrument-memory", null);
  }
  // a global of the instance's own, so that a reset can give it the next process's limit
  m.addGlobalImport("__wippy_max_pages0", PREEMPT_MODULE, "max_pages", i32, false);
  m.addGlobal("__wippy_max_pages", i32, true, m.global.get("__wippy_max_pages0", i32));
  m.addFunctionImport("__wippy_memory_limit", PREEMPT_MODULE, "memory_limit", b.createType([i32]), none);
  for (const f of importedFunctions(b, m)) {
    // the pass imports every helper it might call (loads, stores, GC); only grow is used
    if (f.module !== "env" || before.has(`env.${f.base}`)) continue;
    m.removeFunction(f.name);
    if (f.base === "memory_grow_pre") {
      // (id, delta) -> delta; past max_pages the host ends the process
      m.addFunction(f.name, b.createType([i32, i32]), i32, [], m.block(null, [
        m.if(
          m.i32.gt_u(m.i32.add(m.memory.size(), m.local.get(1, i32)), m.global.get("__wippy_max_pages", i32)),
          m.call("__wippy_memory_limit", [m.local.get(1, i32)], none),
        ),
        m.local.get(1, i32),
      ], i32));
    } else if (f.base === "memory_grow_post") {
      m.addFunction(f.name, b.createType([i32, i32]), i32, [], m.local.get(1, i32));
    }
  }
}

/**
 * Turns a defined memory 0 into the import `wippy.memory` (same limits, same index, data
 * segments unchanged: they are written into whatever memory the host passes). Only a
 * plain 32-bit, unshared memory; anything else keeps its own.
 */
function importMemory(m: BinaryenModule): void {
  if (!m.hasMemory()) return;
  const info = m.getMemoryInfo();
  if (info.module || info.shared || info.is64) return;
  // binaryen names memories by index when the name section does not (trimNameSection drops memory names)
  m.addMemoryImport("0", PREEMPT_MODULE, "memory", false);
  if (m.getMemoryInfo().module !== PREEMPT_MODULE) throw new Error("could not turn the memory into an import");
}

/** Wraps each exported function so `state` says whether its stack may suspend. */
function guardExports(b: Binaryen, m: BinaryenModule): void {
  const i32 = b.i32;
  const exports: { name: string; value: string }[] = [];
  for (let i = 0; i < m.getNumExports(); i++) {
    const info = b.getExportInfo(m.getExportByIndex(i));
    if (info.kind === b.ExternalFunction) exports.push({ name: info.name, value: info.value });
  }
  let n = 0;
  for (const { name, value } of exports) {
    const info = b.getFunctionInfo(m.getFunction(value));
    const params = b.expandType(info.params);
    const results = info.results;
    const prev = params.length; // the first local after the params
    const state = () => m.global.get("__wippy_state", i32);
    // entry: ENTRY if nothing is on the stack, else what the caller had; sync: SYNC
    const next: ExpressionRef = isSyncExport(name)
      ? m.i32.const(STATE_SYNC)
      : m.select(m.i32.eqz(m.local.get(prev, i32)), m.i32.const(STATE_ENTRY), m.local.get(prev, i32));
    const call = m.call(value, params.map((t, i) => m.local.get(i, t)), results);
    const body: ExpressionRef[] = [m.local.set(prev, state()), m.global.set("__wippy_state", next)];
    body.push(results === b.none ? call : m.local.set(prev + 1, call));
    body.push(m.global.set("__wippy_state", m.local.get(prev, i32)));
    if (results !== b.none) body.push(m.local.get(prev + 1, results));
    const wrapper = `__wippy_export_${n++}`;
    m.addFunction(wrapper, info.params, results, results === b.none ? [i32] : [i32, results], m.block(null, body, results));
    m.removeExport(name);
    m.addFunctionExport(wrapper, name);
  }
}
