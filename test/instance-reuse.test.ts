// Instance reuse (issue 17, item 2): a module the reset rewrite qualifies gets
// `__wippy_reset`, and an ended process's instance serves the next process of the same
// module instead of a new instance. After reuse no byte of memory, no global and no table
// slot of the previous process is visible; an instance that trapped, was killed or was
// stopped at a limit is never reused; the pool stays within its bound; a module the
// rewrite does not qualify runs as before, on a new instance each time. The hosts whose
// pool is counted are pinned to the main thread (workers: 0), whatever WIPPY_WORKERS says.

import { parse } from "@bytecodealliance/jco";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InstancePool } from "../src/process/instance-pool.ts";
import { Runtime, runtimeInternals } from "../src/runtime.ts";
import { instrumentCore } from "../src/wasm/instrument.ts";
import { RESET_EXPORT } from "../src/wasm/reset.ts";
import { captureStdio, fixture } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";

// write(secret) puts the secret in every word of the first page and in every global;
// look() answers 0 for an instance as new, else a bit per thing that is not.
const ISOLATION_WAT = `(module
  (type $t (func (result i32)))
  (memory (export "memory") 1 4)
  (global $g (mut i32) (i32.const 7))
  (global $w (mut i64) (i64.const -3))
  (global $f (mut f64) (f64.const 1.5))
  (global $e (export "counter") (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $one $two)
  (data (i32.const 100) "init")
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $write (export "write") (param $s i32) (result i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 65536)))
      (i32.store (local.get $i) (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (global.set $g (local.get $s))
    (global.set $w (i64.extend_i32_u (local.get $s)))
    (global.set $f (f64.convert_i32_u (local.get $s)))
    (global.set $e (local.get $s))
    (i32.const 0))
  (func (export "look") (result i32) (local $i i32) (local $bad i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 65536)))
      (if (i32.and (i32.ne (i32.load8_u (local.get $i)) (i32.const 0))
                   (i32.or (i32.lt_u (local.get $i) (i32.const 100)) (i32.ge_u (local.get $i) (i32.const 104))))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (if (i32.ne (i32.load (i32.const 100)) (i32.const 0x74696e69)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 2)))))
    (if (i32.ne (global.get $g) (i32.const 7)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 4)))))
    (if (i64.ne (global.get $w) (i64.const -3)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 8)))))
    (if (f64.ne (global.get $f) (f64.const 1.5)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 16)))))
    (if (i32.ne (global.get $e) (i32.const 0)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 32)))))
    (if (i32.ne (call_indirect (type $t) (i32.const 0)) (i32.const 1)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 64)))))
    (if (i32.ne (call_indirect (type $t) (i32.const 1)) (i32.const 2)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 128)))))
    (if (i32.ne (memory.size) (i32.const 1)) (then (local.set $bad (i32.or (local.get $bad) (i32.const 256)))))
    (local.get $bad))
  (func (export "write_trap") (param $s i32) (result i32)
    (drop (call $write (local.get $s)))
    unreachable)
  (func (export "write_spin") (param $s i32) (result i32)
    (drop (call $write (local.get $s)))
    (loop $forever (br $forever))
    unreachable)
  (func (export "write_grow") (param $s i32) (result i32)
    (drop (call $write (local.get $s)))
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 65536) (local.get $s))
    (memory.size)))`;

// Changes a table slot: the rewrite cannot put that back, so this module is never reused.
const TABLE_SET_WAT = `(module
  (type $t (func (result i32)))
  (table $tab 1 funcref)
  (elem (i32.const 0) $one)
  (elem declare func $two)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func (export "swap") (result i32)
    (table.set $tab (i32.const 0) (ref.func $two))
    (call_indirect (type $t) (i32.const 0)))
  (func (export "slot0") (result i32) (call_indirect (type $t) (i32.const 0))))`;

const SECRET = 0x5ec12e75;
const cacheDir = mkdtempSync(join(tmpdir(), "wippy-reuse-cache-"));
const opened: Runtime[] = [];
afterEach(async () => {
  for (const r of opened.splice(0)) await r.close(100);
});

/** A project whose `wasm/` holds the given modules (WAT assembled here) and fixtures; `{{hash:NAME}}` in the YAML is NAME's hash. */
async function project(yaml: string, wats: Record<string, string>, fixtures: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), "wippy-reuse-"));
  mkdirSync(join(root, "wasm"));
  mkdirSync(join(root, "src"));
  const hashes = new Map<string, string>();
  const put = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(root, "wasm", name), bytes);
    hashes.set(name, createHash("sha256").update(bytes).digest("hex"));
  };
  for (const [name, wat] of Object.entries(wats)) put(name, await parse(wat));
  for (const [name, rel] of Object.entries(fixtures)) put(name, readFileSync(fixture(rel)));
  writeFileSync(join(root, "src", "app.yaml"), yaml.replace(/\{\{hash:([^}]+)\}\}/g, (_m, n: string) => `sha256:${hashes.get(n)}`));
  const io = captureStdio();
  const rt = await Runtime.open({ root, cacheDir, stdio: io.stdio });
  opened.push(rt);
  const host = runtimeInternals(rt).hosts.get("t:hosts")!;
  return { rt, io, instances: host.instancePool, memories: host.memoryPool };
}

const entry = (name: string, method: string, extra = "") =>
  `  - { name: ${name}, kind: process.wasm, fs: bin, path: /iso.wasm, hash: "{{hash:iso.wasm}}", method: ${method}${extra} }\n`;
const ISOLATION_YAML = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 20000, workers: 0 } }
${entry("write", "write")}${entry("look", "look")}${entry("trap", "write_trap")}${entry("spin", "write_spin")}${entry("fuel", "write_spin", ", limits: { fuel: 200000 }")}${entry("late", "write_spin", ", limits: { max_execution_ms: 50 }")}${entry("grow", "write_grow")}${entry("cap", "write_grow", ", limits: { max_memory: 65536 }")}`;

const isolation = () => project(ISOLATION_YAML, { "iso.wasm": ISOLATION_WAT });

describe("the reset rewrite", () => {
  const reset = async (wat: string) => {
    const bytes = await instrumentCore(await parse(wat), { fuel: true, memory: true, importMemory: true, reset: true });
    return WebAssembly.Module.exports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).some((e) => e.name === RESET_EXPORT);
  };

  it("qualifies a module whose state is memory, data segments and globals, and C commands", async () => {
    expect(await reset(ISOLATION_WAT)).toBe(true);
    const hello = await instrumentCore(readFileSync(fixture("c/hello.core.wasm")), { fuel: true, memory: true, importMemory: true, reset: true });
    expect(WebAssembly.Module.exports(new WebAssembly.Module(hello as Uint8Array<ArrayBuffer>)).some((e) => e.name === RESET_EXPORT)).toBe(true);
  });

  it("leaves out what it could not put back: table writes, data segments used by code, a start function, imported globals, passive segments", async () => {
    expect(await reset(TABLE_SET_WAT)).toBe(false);
    expect(await reset(`(module (memory 1) (data $d "x") (func (export "f") (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))))`)).toBe(false);
    expect(await reset(`(module (memory 1) (data (i32.const 0) "x") (func (export "f") (data.drop 0)))`)).toBe(false);
    expect(await reset(`(module (global $g (mut i32) (i32.const 0)) (func $s (global.set $g (i32.const 1))) (start $s) (func (export "f")))`)).toBe(false);
    expect(await reset(`(module (import "env" "g" (global i32)) (func (export "f")))`)).toBe(false);
    expect(await reset(`(module (memory 1) (data "passive") (func (export "f")))`)).toBe(false);
    expect(await reset(`(module (import "env" "m" (memory 1)) (func (export "f")))`)).toBe(false);
  });
});

describe("instance reuse", () => {
  it("the next process gets the last one's instance, and sees nothing of it: memory, globals, exported global, table as new", async () => {
    const { rt, instances } = await isolation();
    expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 }); // a new instance
    expect(await rt.process.exec("t:write", "t:hosts", SECRET)).toEqual({ value: 0 });
    const { hits } = instances.stats;
    expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
    expect(instances.stats.hits).toBe(hits + 1); // it was the writer's instance, reset
    for (let i = 0; i < 20; i++) {
      expect(await rt.process.exec("t:write", "t:hosts", SECRET + i)).toEqual({ value: 0 });
      expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
    }
    expect(instances.stats.hits).toBeGreaterThanOrEqual(hits + 41);
    expect(instances.stats.size).toBe(1); // one process at a time: one instance serves them all
  });

  it("a trapped instance is never reused", async () => {
    const { rt, instances } = await isolation();
    await rt.process.exec("t:look", "t:hosts");
    const { returned } = instances.stats;
    expect(await rt.process.exec("t:trap", "t:hosts", SECRET)).toMatchObject({ error: { kind: "trap" } });
    expect(instances.stats.returned).toBe(returned);
    expect(instances.stats.size).toBe(0); // the trap took the pooled one and did not bring it back
    expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
  });

  it("a killed instance is never reused, nor one stopped at the fuel, time or memory limit", async () => {
    const { rt, instances } = await isolation();
    const pid = await rt.process.spawnMonitored("t:spin", "t:hosts", SECRET);
    await until(() => rt.processes().find((p) => p.pid === pid)?.state === "suspended", 10_000, "the spinner preempted");
    rt.process.terminate(pid);
    expect(await rt.process.receive(5000)).toMatchObject({ type: "EXIT", from: pid, error: { kind: "killed" } });
    expect(await rt.process.exec("t:fuel", "t:hosts", SECRET)).toMatchObject({ error: { kind: "limit", message: expect.stringContaining("fuel") } });
    expect(await rt.process.exec("t:late", "t:hosts", SECRET)).toMatchObject({ error: { kind: "limit", message: expect.stringContaining("max_execution_ms") } });
    expect(await rt.process.exec("t:cap", "t:hosts", SECRET)).toMatchObject({ error: { kind: "limit", message: expect.stringContaining("max_memory") } });
    expect(instances.stats.returned).toBe(0);
    expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
  });

  it("an instance whose memory grew is not reused (a memory cannot shrink)", async () => {
    const { rt, instances } = await isolation();
    expect(await rt.process.exec("t:grow", "t:hosts", SECRET)).toEqual({ value: 2 });
    expect(instances.stats.returned).toBe(0);
    expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
    expect(instances.stats.returned).toBe(1);
  });

  it("a module the rewrite leaves out runs on a new instance each time", async () => {
    const yaml = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { workers: 0 } }
  - { name: swap, kind: process.wasm, fs: bin, path: /tab.wasm, hash: "{{hash:tab.wasm}}", method: swap }
  - { name: slot0, kind: process.wasm, fs: bin, path: /tab.wasm, hash: "{{hash:tab.wasm}}", method: slot0 }
`;
    const { rt, instances } = await project(yaml, { "tab.wasm": TABLE_SET_WAT });
    expect(await rt.process.exec("t:swap", "t:hosts")).toEqual({ value: 2 });
    expect(await rt.process.exec("t:slot0", "t:hosts")).toEqual({ value: 1 }); // the swap's table is not this one
    expect(instances.stats).toMatchObject({ hits: 0, returned: 0, size: 0 });
  });

  it("a WASI command on a reused instance talks to its own process: its argv, its stdout", async () => {
    const yaml = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { workers: 0 } }
  - { name: hello, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:hello.wasm}}", method: _start, imports: [wasi:cli, wasi:io, wasi:clocks] }
`;
    const { rt, io, instances } = await project(yaml, {}, { "hello.wasm": "c/hello.core.wasm" });
    const first = await rt.process.spawnMonitored("t:hello", "t:hosts", "first", "run");
    expect(await rt.process.receive(5000)).toMatchObject({ type: "EXIT", from: first, value: 0 });
    const second = await rt.process.spawnMonitored("t:hello", "t:hosts", "second");
    expect(await rt.process.receive(5000)).toMatchObject({ type: "EXIT", from: second, value: 0 });
    expect(instances.stats.hits).toBe(1);
    expect(io.stdout(first)).toBe("hello from wasi\nhello\nfirst\nrun\n");
    expect(io.stdout(second)).toBe("hello from wasi\nhello\nsecond\n");
    expect(io.stderr(second)).toBe("to stderr\n");
  });

  it("a WASI command killed while it waits is not reused", async () => {
    const yaml = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { workers: 0 } }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
`;
    const { rt, io, instances } = await project(yaml, {}, { "sleeper.wasm": "c/sleeper.core.wasm" });
    const pid = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
    await until(() => rt.processes().find((p) => p.pid === pid)?.state === "suspended", 10_000, "the sleeper asleep");
    rt.process.terminate(pid);
    expect(await rt.process.receive(5000)).toMatchObject({ type: "EXIT", from: pid, error: { kind: "killed" } });
    expect(instances.stats.returned).toBe(0);
    const next = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "1");
    expect(await rt.process.receive(5000)).toMatchObject({ type: "EXIT", from: next, value: 0 });
    expect(io.stdout(next)).toBe("slept\n");
  });

  it("keeps at most its bound per module, however many end at once", { timeout: 60_000 }, async () => {
    const yaml = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 20000, workers: 0 } }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
`;
    const { rt, instances } = await project(yaml, {}, { "sleeper.wasm": "c/sleeper.core.wasm" });
    const n = instances.perProgram + 40;
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: n }, () => rt.process.exec("t:sleeper", "t:hosts", "20")));
      expect(results.every((r) => "value" in r && r.value === 0)).toBe(true);
      expect(instances.stats.size).toBe(instances.perProgram);
      expect(instances.stats.bytes).toBeLessThanOrEqual(instances.maxBytes);
    }
    expect(instances.stats.dropped).toBeGreaterThanOrEqual(3 * 40);
    expect(instances.stats.hits).toBeGreaterThanOrEqual(2 * instances.perProgram);
  });
});

describe("instance pool bounds", () => {
  const item = (bytes: number) => ({ bytes });

  it("keeps at most perProgram idle instances of one program and its byte cap across programs", () => {
    const pool = new InstancePool({ perProgram: 2, bytes: 5 * 65_536 });
    const a = {};
    const b = {};
    expect([pool.give(a, item(65_536)), pool.give(a, item(65_536)), pool.give(a, item(65_536))]).toEqual([true, true, false]);
    expect([pool.give(b, item(2 * 65_536)), pool.give(b, item(2 * 65_536))]).toEqual([true, false]); // 2 + 2 pages fit in 5; 2 more would not
    expect(pool.stats).toMatchObject({ size: 3, bytes: 4 * 65_536, returned: 3, dropped: 2 });
    expect(pool.take(a)).toBeDefined();
    expect(pool.stats).toMatchObject({ size: 2, hits: 1 });
    expect(pool.take({})).toBeUndefined();
    expect(pool.stats.misses).toBe(1);
  });

  it("never keeps an instance with a memory over LARGEST_POOLED_PAGES; perProgram 0 keeps none", () => {
    expect(new InstancePool().give({}, item(65 * 65_536))).toBe(false);
    expect(new InstancePool({ perProgram: 0 }).give({}, item(65_536))).toBe(false);
  });
});

describe("instance reuse on worker threads", () => {
  it("a worker's processes see nothing of the ones before them either (each thread has its own pool)", async () => {
    const { rt } = await project(ISOLATION_YAML.replace("workers: 0", "workers: 1"), { "iso.wasm": ISOLATION_WAT });
    for (let i = 0; i < 10; i++) {
      expect(await rt.process.exec("t:write", "t:hosts", SECRET + i)).toEqual({ value: 0 });
      expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
    }
    expect(await rt.process.exec("t:trap", "t:hosts", SECRET)).toMatchObject({ error: { kind: "trap" } });
    expect(await rt.process.exec("t:look", "t:hosts")).toEqual({ value: 0 });
  });
});
