// The binary instrumenter (src/wasm/instrument-binary.ts) against the contract of the
// binaryen path (test/instrument.test.ts): the same imports and exports, fuel that
// preempts, guards that keep synchronous calls from suspending, the memory.grow check,
// renumbered indices everywhere they occur, and a clear refusal of what it cannot rewrite.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { detectKind, readCoreInfo } from "../src/wasm/binary.ts";
import { BinaryInstrumentUnsupported, instrumentBinary } from "../src/wasm/instrument-binary.ts";
import { BINARY_ENGINE_FROM, instrumentCore, STATE_IDLE } from "../src/wasm/instrument.ts";
import { padToSize } from "./helpers/large-guest.ts";
import { fixture } from "./helpers/project.ts";
import { imports } from "./helpers/preempt-imports.ts";

const CPU = readFileSync(fixture("c/cpu.core.wasm"));
const COMPUTE = readFileSync(fixture("core/compute.wasm"));
const PREEMPT = { fuel: true, memory: true, engine: "binary" } as const;


async function wat(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const { parse } = await import("@bytecodealliance/jco");
  return (await parse(text)) as Uint8Array<ArrayBuffer>;
}

const compile = (bytes: Uint8Array) => new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);

describe("fuel counting", () => {
  it("the sieve computes 9592 and refills the same number of times on every run", async () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const { calls, imports: imp } = imports();
      const inst = new WebAssembly.Instance(compile(await instrumentCore(CPU, PREEMPT)), imp);
      (inst.exports._initialize as () => void)();
      const sieve = WebAssembly.promising(inst.exports.sieve as (n: number) => number);
      expect(await sieve(100_000)).toBe(9592);
      counts.push(calls.async + calls.sync);
    }
    expect(counts[0]).toBeGreaterThan(100);
    expect(counts[1]).toBe(counts[0]);
  });

  it("a loop that runs out suspends through the Suspending import and goes on where it was", async () => {
    const { calls, imports: imp } = imports({ grant: 50, suspend: true });
    const inst = new WebAssembly.Instance(compile(await instrumentCore(CPU, PREEMPT)), imp);
    (inst.exports._initialize as () => void)();
    const sieve = WebAssembly.promising(inst.exports.sieve as (n: number) => number);
    expect(await sieve(20_000)).toBe(2262);
    expect(calls.suspended).toBeGreaterThan(100);
  });

  it("synchronous exports (_initialize) never take the suspending path; entry exports do", async () => {
    const { calls, state, imports: imp } = imports({ grant: 1, suspend: true });
    const inst = new WebAssembly.Instance(compile(await instrumentCore(CPU, PREEMPT)), imp);
    (inst.exports._initialize as () => void)(); // would throw a SuspendError if it suspended
    expect(calls.sync).toBeGreaterThan(0);
    expect(calls.async).toBe(0);
    expect(state.value).toBe(STATE_IDLE);
    const sieve = WebAssembly.promising(inst.exports.sieve as (n: number) => number);
    expect(await sieve(100)).toBe(25);
    expect(calls.async).toBeGreaterThan(0);
    expect(state.value).toBe(STATE_IDLE);
  });
});

// every way out of an iteration: continue through a br_table, a break from the middle, the end
const LOOPS = `(module
  (func (export "walk") (param $n i32) (param $stop i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.eq (local.get $i) (local.get $stop)))
        (block $add
          (br_table $add $next (i32.and (local.get $i) (i32.const 1))))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $n)))))
    (local.get $acc))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "leaf") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "caller") (param i32) (result i32) (call $triple (local.get 0))))`;

describe("checks", () => {
  async function loops() {
    const bytes = await wat(LOOPS);
    return { bare: new WebAssembly.Instance(compile(bytes)), instrumented: compile(await instrumentCore(bytes, PREEMPT)) };
  }

  it("a loop computes what the original does, whatever the grant", async () => {
    const { bare, instrumented } = await loops();
    const walkBare = bare.exports.walk as (n: number, stop: number) => number;
    for (const grant of [1, 2, 3, 1000]) {
      const walk = WebAssembly.promising(new WebAssembly.Instance(instrumented, imports({ grant }).imports).exports.walk as (n: number, stop: number) => number);
      for (let n = 0; n < 14; n++) {
        for (const stop of [-1, 0, 1, 4, 5, 11]) expect([grant, n, stop, await walk(n, stop)]).toEqual([grant, n, stop, walkBare(n, stop)]);
      }
    }
  });

  it("a loop header counts one unit a pass: a grant of 1 lasts two passes", async () => {
    const { instrumented } = await loops();
    const { calls, imports: imp } = imports({ grant: 1 });
    const walk = WebAssembly.promising(new WebAssembly.Instance(instrumented, imp).exports.walk as (n: number, stop: number) => number);
    await walk(4000, -1);
    // the entry refills once (the first grant is 0); then each refill's 1 and the -1 that calls it: 4 000 passes, 2 000 refills
    expect(calls.async).toBe(2001);
  });

  it("a leaf function (no call, no loop) has no check; a function that calls has one", async () => {
    const { instrumented } = await loops();
    const { calls, imports: imp } = imports();
    const inst = new WebAssembly.Instance(instrumented, imp);
    expect(await WebAssembly.promising(inst.exports.leaf as (n: number) => number)(4)).toBe(5);
    expect(calls.async + calls.sync).toBe(0);
    expect(await WebAssembly.promising(inst.exports.caller as (n: number) => number)(4)).toBe(12);
    expect(calls.async + calls.sync).toBe(1);
  });

  it("a function that would need more than 50 000 locals for its countdown is refused", async () => {
    const bytes = await wat(`(module (func (export "f") (local ${"i32 ".repeat(50_000)}) (loop (nop))))`);
    expect(() => instrumentBinary(bytes, { fuel: true, memory: true })).toThrow(BinaryInstrumentUnsupported);
    expect(WebAssembly.validate(instrumentBinary(bytes, { fuel: false, memory: true }))).toBe(true);
  });
});

describe("memory", () => {
  it("memory.grow past max_pages calls memory_limit instead of growing; within it grows", async () => {
    const { calls, imports: imp } = imports({ maxPages: 3 });
    const inst = new WebAssembly.Instance(compile(await instrumentCore(COMPUTE, PREEMPT)), imp);
    const grow = WebAssembly.promising(inst.exports.grow as (n: number) => number);
    expect(await grow(2)).toBe(3);
    await expect(grow(1)).rejects.toThrow("limit: 1 pages");
    expect(calls.limit).toEqual([1]);
    expect((inst.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(3 * 65536);
  });

  it("with memory only (preempt: false) there are no fuel imports", async () => {
    const module = compile(await instrumentCore(COMPUTE, { fuel: false, memory: true, engine: "binary" }));
    const names = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort();
    expect(names).toEqual(["wippy.max_pages", "wippy.memory_limit", "wippy.state"]);
  });

  it("importMemory turns a plain memory into wippy.memory with the same limits; a shared one stays", async () => {
    for (const [memory, imported] of [["(memory 2 7)", true], ["(memory 3)", true], ["(memory 1 4 shared)", false]] as const) {
      const bytes = await wat(`(module ${memory} (export "m" (memory 0)) (func (export "f") (result i32) (i32.atomic.load (i32.const 0))))`);
      const out = instrumentBinary(bytes, { fuel: true, memory: true, importMemory: true });
      const before = readCoreInfo(bytes).memory!;
      expect(readCoreInfo(out).memory).toEqual({ ...before, imported });
      expect(WebAssembly.Module.imports(compile(out)).some((i) => i.name === "memory" && i.kind === "memory")).toBe(imported);
    }
  });
});

describe("renumbering", () => {
  // every place a function or global index occurs: calls, tail calls, tables (index and
  // expression segments), ref.func, globals and their initialisers, offsets, start, exports
  const INDICES = `(module
    (import "env" "base" (global $base i32))
    (import "env" "seven" (func $seven (result i32)))
    (global $counter (mut i32) (global.get $base))
    (global $copy i32 (global.get $base))
    (global $ref funcref (ref.func $double))
    (memory 1)
    (table $t 4 funcref)
    (table $u 2 funcref)
    (elem (table $t) (offset (global.get $base)) func $double $seven)
    (elem $exprs funcref (ref.func $triple) (ref.null func))
    (data (offset (global.get $base)) "\\2a")
    (type $unary (func (param i32) (result i32)))
    (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
    (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
    (func $start (global.set $counter (i32.add (global.get $counter) (i32.const 100))))
    (func $tail (param i32) (result i32) (return_call $double (local.get 0)))
    (func (export "run") (result i32)
      (table.init $u $exprs (i32.const 0) (i32.const 0) (i32.const 2))
      (i32.add
        (i32.add (call_indirect (type $unary) (i32.const 5) (global.get $copy)) (call $tail (i32.const 10)))
        (i32.add (call_indirect $u (type $unary) (i32.const 7) (i32.const 0)) (i32.load8_u (global.get $base)))))
    (func (export "seven_via_table") (result i32) (call_indirect (result i32) (i32.add (global.get $base) (i32.const 1))))
    (func (export "ref_is_double") (result i32) (ref.is_null (global.get $ref)))
    (export "counter" (global $counter))
    (start $start))`;

  it("every index the added imports move is renumbered: the module computes what it did", async () => {
    const bytes = await wat(INDICES);
    const env = { env: { base: new WebAssembly.Global({ value: "i32", mutable: false }, 1), seven: () => 7 } };
    const bare = new WebAssembly.Instance(compile(bytes), env).exports;
    for (const opts of [{ fuel: true, memory: true, importMemory: true }, { fuel: false, memory: false }]) {
      const out = instrumentBinary(bytes, opts);
      const { imports: imp } = imports();
      const wippy = (imp as { wippy: Record<string, unknown> }).wippy;
      if (opts.importMemory) wippy.memory = new WebAssembly.Memory({ initial: 1 });
      const inst = new WebAssembly.Instance(compile(out), { ...env, ...imp }).exports;
      // 5*2 + 10*2 + 7*3 + 42
      expect(await WebAssembly.promising(inst.run as () => number)()).toBe((bare.run as () => number)());
      expect(await WebAssembly.promising(inst.run as () => number)()).toBe(93);
      expect(await WebAssembly.promising(inst.seven_via_table as () => number)()).toBe(7);
      expect(await WebAssembly.promising(inst.ref_is_double as () => number)()).toBe(0);
      expect((inst.counter as WebAssembly.Global).value).toBe(101);
    }
  });

  it("a function only declared by its export can still be ref.func'd once the export names its guard", async () => {
    const bytes = await wat(`(module (type $t (func (result i32))) (table 1 funcref)
      (func $f (export "f") (result i32) (i32.const 5))
      (func (export "g") (result i32) (table.set (i32.const 0) (ref.func $f)) (call_indirect (type $t) (i32.const 0))))`);
    const inst = new WebAssembly.Instance(compile(instrumentBinary(bytes, { fuel: true, memory: true })), imports().imports);
    expect(await WebAssembly.promising(inst.exports.g as () => number)()).toBe(5);
  });

  it("a guard returns every result of a multi-value export and restores state", async () => {
    const bytes = await wat(`(module (func (export "pair") (param i32) (result i32 i64) (local.get 0) (i64.const 9)))`);
    const { state, imports: imp } = imports();
    const inst = new WebAssembly.Instance(compile(instrumentBinary(bytes, { fuel: true, memory: true })), imp);
    expect(await WebAssembly.promising(inst.exports.pair as (n: number) => unknown)(4)).toEqual([4, 9n]);
    expect(state.value).toBe(STATE_IDLE);
  });

  it("function names survive, renumbered (a trap's stack names the function)", async () => {
    const bytes = await wat(`(module (import "env" "f" (func)) (func $boom_here (unreachable)) (func (export "go") (call $boom_here)))`);
    const inst = new WebAssembly.Instance(compile(instrumentBinary(bytes, { fuel: true, memory: true })), { env: { f() {} }, ...imports().imports });
    const err = await WebAssembly.promising(inst.exports.go as () => void)().catch((e: Error) => e);
    expect((err as Error).stack).toContain("boom_here");
  });

  it("SIMD, atomics, bulk memory and saturating truncation are stepped over", async () => {
    const bytes = await wat(`(module (memory 1 1 shared)
      (func (export "f") (param i32) (result i32)
        (v128.store (i32.const 0) (i32x4.splat (local.get 0)))
        (drop (v128.load8_lane 3 (i32.const 0) (v128.const i64x2 0 0)))
        (memory.fill (i32.const 16) (i32.const 1) (i32.const 4))
        (drop (i32.atomic.rmw.add (i32.const 32) (i32.const 5)))
        (atomic.fence)
        (i32.add (i32x4.extract_lane 2 (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (v128.load (i32.const 0)) (v128.const i32x4 0 0 0 0)))
          (i32.add (i32.trunc_sat_f32_s (f32.const 1.5)) (i32.load (i32.const 32))))))`);
    const inst = new WebAssembly.Instance(compile(instrumentBinary(bytes, { fuel: true, memory: true })), imports().imports);
    expect(await WebAssembly.promising(inst.exports.f as (n: number) => number)(10)).toBe(16);
  });
});

describe("refusals", () => {
  it("a module that imports from `wippy` itself is refused with the runtime's error, not as unsupported", async () => {
    const bytes = await wat(`(module (import "wippy" "state" (global (mut i32))) (func (export "f")))`);
    const err = (() => {
      try {
        instrumentBinary(bytes, { fuel: true, memory: true });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(BinaryInstrumentUnsupported);
    expect((err as Error).message).toBe('it imports wippy.state: the import module name "wippy" is reserved for the runtime');
  });

  it.each([
    ["an exception tag and try_table", `(module (tag $e) (func (export "f") (block $h (try_table (catch_all $h) (throw $e)))))`],
    ["multi-memory", `(module (memory 1) (memory $b 1) (func (export "f") (result i32) (i32.load $b (i32.const 0))))`],
    ["memory64", `(module (memory i64 1) (func (export "f") (result i64) (memory.size)))`],
    ["a GC struct type", `(module (type $s (struct (field i32))) (func (export "f") (result (ref null $s)) (ref.null $s)))`],
    ["call_ref", `(module (type $t (func)) (func $g) (elem declare func $g) (func (export "f") (call_ref $t (ref.func $g))))`],
  ])("%s is refused as unsupported", async (_what, text) => {
    const bytes = await wat(text);
    expect(() => instrumentBinary(bytes, { fuel: true, memory: true })).toThrow(BinaryInstrumentUnsupported);
  });

  it("a legacy try block (binaryen builds it: wasm-tools no longer parses it) is refused as unsupported", async () => {
    const b = (await import("binaryen")).default;
    const m = b.parseText(`(module (func $f (export "f") (try (do (call $f)) (catch_all (nop)))))`);
    m.setFeatures(b.Features.All);
    const bytes = m.emitBinary();
    m.dispose();
    expect(() => instrumentBinary(bytes, { fuel: true, memory: true })).toThrow(/opcode 0x6 \(exception handling\)/);
  });
});

function coreFixtures(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...coreFixtures(path));
    else if (name.endsWith(".wasm") && detectKind(readFileSync(path)) === "core") out.push(path);
  }
  return out;
}

describe("every core fixture", () => {
  const signature = (bytes: Uint8Array) => {
    const m = compile(bytes);
    return {
      imports: WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`).sort(),
      exports: WebAssembly.Module.exports(m).map((e) => `${e.name}:${e.kind}`).sort(),
    };
  };
  const files = coreFixtures(fixture("."));

  it("finds the fixtures", () => {
    expect(files.length).toBeGreaterThan(15);
  });

  it.each(files.map((f) => [f.slice(fixture(".").length)]))("%s validates and has binaryen's imports and exports", { timeout: 60_000 }, async (rel) => {
    const bytes = readFileSync(fixture(rel));
    for (const opts of [{ fuel: true, memory: true, importMemory: true }, { fuel: false, memory: true }]) {
      const progress: [number, number][] = [];
      const out = instrumentBinary(bytes, opts, (done, total) => progress.push([done, total]));
      expect(WebAssembly.validate(out as Uint8Array<ArrayBuffer>)).toBe(true);
      expect(signature(out)).toEqual(signature(await instrumentCore(bytes, { ...opts, engine: "binaryen" })));
      if (progress.length > 0) expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
    }
  });
});

describe("choosing the engine (engine: auto, the default)", () => {
  const exportsOf = (bytes: Uint8Array) => WebAssembly.Module.exports(compile(bytes)).map((e) => e.name);
  const opts = { fuel: true, memory: true, importMemory: true, reset: true } as const;

  it("below BINARY_ENGINE_FROM binaryen instruments (with a reset); from there on the byte rewrite (without)", async () => {
    const small = await instrumentCore(CPU, opts);
    expect(exportsOf(small)).toContain("__wippy_reset");
    const large = padToSize(CPU, BINARY_ENGINE_FROM);
    const out = await instrumentCore(large, opts);
    expect(exportsOf(out)).not.toContain("__wippy_reset");
    expect(out.length).toBeLessThan(CPU.length * 2); // the padding went with the custom sections
  });

  it("the byte rewrite reports its progress up to the whole code section", async () => {
    const seen: [number, number][] = [];
    await instrumentCore(padToSize(CPU, BINARY_ENGINE_FROM), { ...opts, onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.length).toBeGreaterThan(0);
    const [done, total] = seen.at(-1)!;
    expect(done).toBe(total);
  });

  it("a large module the byte rewrite cannot take goes to binaryen instead of failing", async () => {
    const b = (await import("binaryen")).default;
    const m = b.parseText(`(module (memory 1) (func $f (export "f") (try (do (call $f)) (catch_all (nop)))))`);
    m.setFeatures(b.Features.All);
    const eh = padToSize(m.emitBinary(), BINARY_ENGINE_FROM);
    m.dispose();
    expect(() => instrumentBinary(eh, opts)).toThrow(BinaryInstrumentUnsupported);
    const out = await instrumentCore(eh, opts);
    expect(WebAssembly.Module.imports(compile(out)).map((i) => `${i.module}.${i.name}`)).toEqual(expect.arrayContaining(["wippy.state", "wippy.yield_async", "wippy.memory"]));
  });

  it("WIPPY_INSTRUMENT_ENGINE overrides the choice (a test pass through one engine)", async () => {
    const large = padToSize(CPU, BINARY_ENGINE_FROM);
    vi.stubEnv("WIPPY_INSTRUMENT_ENGINE", "binaryen");
    try {
      expect(exportsOf(await instrumentCore(large, opts))).toContain("__wippy_reset");
      vi.stubEnv("WIPPY_INSTRUMENT_ENGINE", "binary");
      expect(exportsOf(await instrumentCore(CPU, opts))).not.toContain("__wippy_reset");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
