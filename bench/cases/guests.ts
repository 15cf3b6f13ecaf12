// The process API inside guests: messages per second between two WASM guests, and the
// memory of guests parked in `receive`, each against a bare JSPI floor measured in the
// same run (two instances that exchange through WebAssembly.Suspending imports and
// nothing else; the same module parked in a Suspending import).

import { parse } from "@bytecodealliance/jco";
import { GARBAGE_NOTE, openProject, parkedMemory, sample, settle, stats, type Row } from "../lib.ts";

const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: echo, kind: process.wasm, fs: bin, path: /echo.wasm, hash: "{{hash:wasm/echo.wasm}}", method: echo, imports: [wippy:process] }
  - { name: pinger, kind: process.wasm, fs: bin, path: /echo.wasm, hash: "{{hash:wasm/echo.wasm}}", method: pinger, imports: [wippy:process] }
  - { name: wait, kind: process.wasm, fs: bin, path: /echo.wasm, hash: "{{hash:wasm/echo.wasm}}", method: wait, imports: [wippy:process] }
`;

const ROUNDS = Number(process.env.BENCH_GUEST_ROUNDS ?? 50_000);
const PARKED = Number(process.env.BENCH_GUEST_PARKED ?? 10_000);
/** Bare instances parked for the floor: fewer, so that their memories and the guests' fit the address space together. */
const BARE_PARKED = Math.min(PARKED, 2_000);

// The floor's module: ping sends then waits for the answer; pong answers each; a 4-byte
// payload is written to memory and read back, as the guests do.
const FLOOR_WAT = `(module
  (import "env" "send" (func $send (param i32)))
  (import "env" "recv" (func $recv (result i32)))
  (memory (export "memory") 1)
  (func (export "ping") (param $n i32) (result i32) (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.const 0) (local.get $i))
      (call $send (i32.load (i32.const 0)))
      (drop (call $recv))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $n))
  (func (export "pong") (param $n i32) (result i32) (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.const 0) (call $recv))
      (call $send (i32.load (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $n)))`;

/** A one-slot channel: a value waits for its receiver, or a receiver for its value. */
function channel() {
  const queue: number[] = [];
  let waiter: ((v: number) => void) | undefined;
  return {
    send(v: number) {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(v);
      } else queue.push(v);
    },
    recv(): number | Promise<number> {
      if (queue.length > 0) return queue.shift()!;
      return new Promise((resolve) => (waiter = resolve));
    },
  };
}

async function floorPingPong(module: WebAssembly.Module): Promise<number> {
  const toA = channel();
  const toB = channel();
  const make = (out: ReturnType<typeof channel>, inbox: ReturnType<typeof channel>) =>
    new WebAssembly.Instance(module, { env: { send: (v: number) => out.send(v), recv: new WebAssembly.Suspending(() => inbox.recv()) } } as unknown as WebAssembly.Imports);
  const a = make(toB, toA);
  const b = make(toA, toB);
  const ping = WebAssembly.promising(a.exports.ping as (n: number) => number);
  const pong = WebAssembly.promising(b.exports.pong as (n: number) => number);
  const t = performance.now();
  await Promise.all([pong(ROUNDS), ping(ROUNDS)]);
  return (2 * ROUNDS) / ((performance.now() - t) / 1000);
}

const used = () => process.memoryUsage();

export async function guestCases(runs: number): Promise<Row[]> {
  const rt = await openProject(YAML, { "wasm/echo.wasm": "core/process-echo.wasm" });
  const floorModule = new WebAssembly.Module((await parse(FLOOR_WAT)) as Uint8Array<ArrayBuffer>);
  const rows: Row[] = [];
  try {
    const p = rt.process;
    const guests = await sample(runs, async () => {
      const echo = await p.spawn("b:echo", "b:hosts", ROUNDS);
      const pinger = await p.spawnMonitored("b:pinger", "b:hosts", ROUNDS);
      const t = performance.now();
      await p.send(pinger, "target", new TextEncoder().encode(echo));
      const exit = await p.receive({ match: (e) => e.type === "EXIT" && e.from === pinger });
      const ms = performance.now() - t;
      if (!exit || !("value" in exit) || exit.value !== ROUNDS) throw new Error(`guest ping-pong failed: ${JSON.stringify(exit)}`);
      return (2 * ROUNDS) / (ms / 1000);
    });
    const floor = await sample(runs, () => floorPingPong(floorModule));
    rows.push({
      name: `ping-pong between two WASM guests (wippy:process, ${ROUNDS.toLocaleString("en")} round trips)`,
      unit: "msg/s",
      value: stats(guests),
      baselineName: "two bare instances over Suspending imports",
      baseline: stats(floor),
      higherIsBetter: true,
    });

    // Memory of guests parked in receive, per guest, against the same module parked bare.
    await settle();
    const bareBefore = used();
    const wake: (() => void)[] = [];
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < BARE_PARKED; i++) {
      const recv = new WebAssembly.Suspending(() => new Promise<number>((r) => wake.push(() => r(0))));
      const inst = new WebAssembly.Instance(floorModule, { env: { send: () => {}, recv } } as unknown as WebAssembly.Imports);
      done.push((WebAssembly.promising(inst.exports.pong as (n: number) => number))(1));
    }
    await settle();
    const bareParked = used();
    const perBare = (bareParked.rss - bareBefore.rss) / BARE_PARKED;
    // a suspended stack holds its instance: wake them so that they end and their memories
    // go (10 000 more would not fit the address space beside these)
    for (const w of wake) w();
    await Promise.all(done);
    wake.length = 0;
    done.length = 0;
    const parked = await parkedMemory(rt, "b:wait", "b:hosts", PARKED, -1);
    const perGuest = parked.rssPerProcess;
    const perGuestHeap = parked.heapPerProcess;

    const one = (n: number) => ({ median: n / 1024, min: n / 1024, max: n / 1024 });
    rows.push({
      name: `memory of one of ${PARKED.toLocaleString("en")} guests parked in receive (RSS)`,
      unit: "KiB",
      value: one(perGuest),
      baselineName: `a bare instance parked in a Suspending import (${BARE_PARKED.toLocaleString("en")} of them)`,
      baseline: one(perBare),
      note: `JS heap per parked guest: ${(perGuestHeap / 1024).toFixed(1)} KiB${GARBAGE_NOTE}`,
    });
  } finally {
    await rt.close();
  }
  return rows;
}
