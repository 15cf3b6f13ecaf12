// The instrumented module itself (src/wasm/instrument.ts), driven by hand: fuel
// counting through both rewrites, the export guards that keep synchronous calls from
// suspending, and the memory.grow check.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { instrumentCore, STATE_IDLE } from "../src/wasm/instrument.ts";
import { fixture } from "./helpers/project.ts";
import { imports } from "./helpers/preempt-imports.ts";

const CPU = readFileSync(fixture("c/cpu.core.wasm"));
const COMPUTE = readFileSync(fixture("core/compute.wasm"));


async function cpu(viaText = false) {
  const bytes = await instrumentCore(CPU, { fuel: true, memory: true, viaText });
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

describe("fuel counting", () => {
  it("the IR rewrite and the text rewrite count the same: same result, same number of refills", async () => {
    const counts: number[] = [];
    for (const viaText of [false, true]) {
      const { calls, imports: imp } = imports();
      const inst = new WebAssembly.Instance(await cpu(viaText), imp);
      (inst.exports._initialize as () => void)();
      const sieve = WebAssembly.promising(inst.exports.sieve as (n: number) => number);
      expect(await sieve(100_000)).toBe(9592);
      counts.push(calls.async + calls.sync);
    }
    expect(counts[0]).toBeGreaterThan(100); // 100 000 outer iterations, 1 000 units a grant
    expect(counts[1]).toBe(counts[0]);
  });

  it("a loop refills outside itself and goes on where it was, suspending when the host says so", async () => {
    const { calls, imports: imp } = imports({ grant: 50, suspend: true });
    const inst = new WebAssembly.Instance(await cpu(), imp);
    (inst.exports._initialize as () => void)();
    const sieve = WebAssembly.promising(inst.exports.sieve as (n: number) => number);
    expect(await sieve(20_000)).toBe(2262);
    expect(calls.suspended).toBeGreaterThan(100);
  });

  it("synchronous exports (_initialize, cabi_*) never take the suspending path; entry exports do", async () => {
    const { calls, state, imports: imp } = imports({ grant: 1, suspend: true });
    const inst = new WebAssembly.Instance(await cpu(), imp);
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

// A loop small enough to be unrolled (fuel-unroll.ts), with every way out of an iteration:
// continue through a br_table, a break from the middle, the loop's end; and a leaf beside a caller.
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

describe("fewer checks", () => {
  async function loops() {
    const { parse } = await import("@bytecodealliance/jco");
    const bytes = (await parse(LOOPS)) as Uint8Array<ArrayBuffer>;
    return { bare: new WebAssembly.Instance(new WebAssembly.Module(bytes)), instrumented: new WebAssembly.Module((await instrumentCore(bytes, { fuel: true, memory: true })) as Uint8Array<ArrayBuffer>) };
  }

  it("an unrolled loop computes what the original does, whatever the grant and wherever it stops", async () => {
    const { bare, instrumented } = await loops();
    const walkBare = bare.exports.walk as (n: number, stop: number) => number;
    for (const grant of [1, 2, 3, 1000]) {
      const inst = new WebAssembly.Instance(instrumented, imports({ grant }).imports);
      const walk = WebAssembly.promising(inst.exports.walk as (n: number, stop: number) => number);
      for (let n = 0; n < 14; n++) {
        for (const stop of [-1, 0, 1, 4, 5, 6, 7, 11]) expect([grant, n, stop, await walk(n, stop)]).toEqual([grant, n, stop, walkBare(n, stop)]);
      }
    }
  });

  it("a small loop checks its fuel once per four iterations", async () => {
    const { instrumented } = await loops();
    const { calls, imports: imp } = imports({ grant: 1 });
    const inst = new WebAssembly.Instance(instrumented, imp);
    const walk = WebAssembly.promising(inst.exports.walk as (n: number, stop: number) => number);
    await walk(4000, -1);
    // a grant of 1 a refill, one unit a pass through the header (the entry's refill included):
    // 4 000 iterations, 1 000 passes; a check per iteration would make 4 000 refills
    expect(calls.async).toBe(1000);
  });

  it("a leaf function (no call, no loop) has no check; a function that calls has one", async () => {
    const { instrumented } = await loops();
    const { calls, imports: imp } = imports(); // the first grant (wippy.fuel) is 0: the first check refills
    const inst = new WebAssembly.Instance(instrumented, imp);
    expect(await WebAssembly.promising(inst.exports.leaf as (n: number) => number)(4)).toBe(5);
    expect(calls.async + calls.sync).toBe(0);
    expect(await WebAssembly.promising(inst.exports.caller as (n: number) => number)(4)).toBe(12);
    expect(calls.async + calls.sync).toBe(1);
  });
});

describe("memory.grow", () => {
  it("past max_pages calls memory_limit instead of growing; within it grows", async () => {
    const module = new WebAssembly.Module((await instrumentCore(COMPUTE, { fuel: true, memory: true })) as Uint8Array<ArrayBuffer>);
    const { calls, imports: imp } = imports({ maxPages: 3 });
    const inst = new WebAssembly.Instance(module, imp);
    // an entry export: its fuel refills may suspend, so it is entered through promising
    const grow = WebAssembly.promising(inst.exports.grow as (n: number) => number);
    expect(await grow(2)).toBe(3);
    await expect(grow(1)).rejects.toThrow("limit: 1 pages");
    expect(calls.limit).toEqual([1]);
    expect((inst.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(3 * 65536);
  });

  it("with memory only (preempt: false) there are no fuel imports", async () => {
    const module = new WebAssembly.Module((await instrumentCore(COMPUTE, { fuel: false, memory: true })) as Uint8Array<ArrayBuffer>);
    const names = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort();
    expect(names).toEqual(["wippy.max_pages", "wippy.memory_limit", "wippy.state"]);
  });
});

describe("the reserved import module", () => {
  it("a module that imports from `wippy` itself is refused", async () => {
    const { parse } = await import("@bytecodealliance/jco");
    const bytes = (await parse(`(module (import "wippy" "state" (global (mut i32))) (func (export "f")))`)) as Uint8Array;
    await expect(instrumentCore(bytes, { fuel: true, memory: true })).rejects.toThrow('it imports wippy.state: the import module name "wippy" is reserved for the runtime');
  });
});
