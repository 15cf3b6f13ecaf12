// Limits and preemption (SPEC section 2, `limits`): every module is instrumented, so
// a runaway guest cannot hold the thread; past max_execution_ms, fuel or max_memory
// the process ends with an EXIT of kind `limit` and the others go on.

import { describe, expect, it } from "vitest";
import type { ExitResult, RuntimeOptions } from "../src/index.ts";
import { useRuntimes } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";

const openProject = useRuntimes("limits");

const wasm = (name: string, path: string, method: string, extra = "") =>
  `  - { name: ${name}, kind: process.wasm, fs: bin, path: ${path}, hash: "{{hash:wasm${path}}}", method: ${method}${extra} }`;

const YAML = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - name: fueled
    kind: process.host
    limits: { fuel: 50000 }
  - name: trusted
    kind: process.host
    host: { preempt: false }
  - name: roomy
    kind: process.host
    limits: { max_memory: 512MiB }
${wasm("spin", "/compute.wasm", "spin", ", limits: { max_execution_ms: 100 }")}
${wasm("spin_free", "/compute.wasm", "spin")}
${wasm("grow", "/compute.wasm", "grow", ", limits: { max_memory: 262144 }")}
${wasm("small_memory", "/compute.wasm", "answer", ", limits: { max_memory: 1024 }")}
${wasm("grow_free", "/grow.wasm", "grow_by")}
${wasm("grow_raised", "/grow.wasm", "grow_by", ", limits: { max_memory: 512MiB }")}
${wasm("answer_timed", "/compute.wasm", "answer", ", limits: { max_execution_ms: 60000 }")}
${wasm("answer_both", "/compute.wasm", "answer", ", limits: { max_execution_ms: 60000, fuel: 1000000 }")}
${wasm("huge", "/hugemem.wasm", "answer")}
${wasm("sieve", "/cpu.core.wasm", "sieve")}
${wasm("sieve_fuel", "/cpu.core.wasm", "sieve", ", limits: { fuel: 1000000000 }")}
${wasm("spin_c", "/cpu.wasm", "spin", ", limits: { max_execution_ms: 100 }")}
${wasm("sieve_c", "/cpu.wasm", "sieve")}
${wasm("hog", "/cpu.wasm", "hog", ", limits: { max_memory: 8388608 }")}
${wasm("sleeper", "/sleeper.wasm", "_start", ", imports: [wasi:cli, wasi:clocks, wasi:io]")}
`;

const BINARIES = {
  "wasm/compute.wasm": "core/compute.wasm",
  "wasm/hugemem.wasm": "core/hugemem.wasm",
  "wasm/grow.wasm": "core/grow.wasm",
  "wasm/cpu.core.wasm": "c/cpu.core.wasm",
  "wasm/cpu.wasm": "c/cpu.wasm",
  "wasm/sleeper.wasm": "c/sleeper.core.wasm",
};

type Inspect = NonNullable<RuntimeOptions["inspect"]>;

async function open(yaml = YAML, inspect?: Inspect) {
  return (await openProject(yaml, BINARIES, inspect ? { inspect } : {})).runtime;
}

const errorOf = (r: ExitResult) => ("error" in r ? r.error : undefined);

describe("max_execution_ms", () => {
  it("ends an infinite loop with a limit EXIT within 2× the limit while 100 others run and finish", async () => {
    const rt = await open();
    await rt.process.exec("t:sleeper", "t:hosts", "1"); // load both binaries before timing
    await rt.process.exec("t:spin", "t:hosts").catch(() => undefined);
    const others: Promise<ExitResult>[] = [];
    for (let i = 0; i < 100; i++) others.push(rt.process.exec("t:sleeper", "t:hosts", "50"));
    // the limit counts from when the guest runs: timed from then (on a worker thread, a spawn and its
    // report of running cross threads, which is not the guest's time)
    const watcher = rt.newProcess();
    const pid = await watcher.spawnMonitored("t:spin", "t:hosts");
    await until(() => rt.processes().find((p) => p.pid === pid)?.state !== "init", 30_000, "the spinner to run");
    const started = performance.now();
    const ev = await watcher.receive({ match: (e) => e.type === "EXIT" && e.from === pid, timeout: 30_000 });
    const ms = performance.now() - started;
    const result: ExitResult = ev && ev.type === "EXIT" && "error" in ev ? { error: ev.error } : { value: (ev as { value?: unknown } | null)?.value };
    console.log(`infinite loop with max_execution_ms 100: limit EXIT after ${ms.toFixed(0)} ms`);
    expect(errorOf(result)).toEqual({
      kind: "limit",
      message: "ran longer than 100 ms (limit max_execution_ms: 100); raise max_execution_ms in the entry's limits or the process.host's defaults",
    });
    expect(ms).toBeLessThan(200);
    const done = await Promise.all(others);
    expect(done.every((r) => "value" in r && r.value === 0)).toBe(true);
  });

  it("stops a spinning component too", async () => {
    const rt = await open();
    const result = await rt.process.exec("t:spin_c", "t:hosts");
    expect(errorOf(result)).toMatchObject({ kind: "limit", message: expect.stringContaining("max_execution_ms: 100") });
  });

  it("a guest without limits still yields: timers fire while it spins, and it can be killed", async () => {
    const rt = await open();
    const watcher = rt.newProcess();
    const pid = await watcher.spawnMonitored("t:spin_free", "t:hosts");
    // (on a worker thread, the first spawn waits for the worker to start)
    await until(() => rt.processes().find((p) => p.pid === pid)?.state !== "init", 30_000, "the guest to run");
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
    expect(rt.processes().find((p) => p.pid === pid)?.state).toMatch(/stepping|suspended/);
    // a cancel is honoured at host waits; a spinning guest never waits, so it is killed at the timeout
    watcher.cancel(pid, "stop", 50);
    expect(await watcher.receive(30_000)).toMatchObject({ type: "EXIT", from: pid, error: { kind: "killed" } });
  });
});

describe("fuel", () => {
  /** Fewest fuel units with which sieve(n) finishes, by bisection. */
  async function minimalFuel(n: number): Promise<{ fuel: number; results: string[] }> {
    const results: string[] = [];
    let lo = 1;
    let hi = 1 << 22;
    const run = async (fuel: number) => {
      const rt = await open(YAML.replace("fuel: 1000000000", `fuel: ${fuel}`));
      const r = await rt.process.exec("t:sieve_fuel", "t:hosts", n);
      await rt.close(100);
      results.push(`${fuel}:${JSON.stringify(r)}`);
      return "value" in r;
    };
    expect(await run(hi)).toBe(true);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await run(mid)) hi = mid;
      else lo = mid + 1;
    }
    return { fuel: lo, results };
  }

  it("is deterministic: the same fuel gives the same result, and one unit less runs out", async () => {
    const first = await minimalFuel(5000);
    const second = await minimalFuel(5000);
    expect(second).toEqual(first);
    const rt = await open(YAML.replace("fuel: 1000000000", `fuel: ${first.fuel}`));
    expect(await rt.process.exec("t:sieve_fuel", "t:hosts", 5000)).toEqual({ value: 669 });
    const rt2 = await open(YAML.replace("fuel: 1000000000", `fuel: ${first.fuel - 1}`));
    expect(errorOf(await rt2.process.exec("t:sieve_fuel", "t:hosts", 5000))).toEqual({
      kind: "limit",
      message: `ran out of fuel (limit fuel: ${first.fuel - 1}); raise fuel in the entry's limits or the process.host's defaults`,
    });
  });

  it("a process.host's default applies; an entry's own limit overrides it", async () => {
    const rt = await open();
    expect(errorOf(await rt.process.exec("t:sieve", "t:fueled", 1_000_000))).toMatchObject({ kind: "limit", message: expect.stringContaining("limit fuel: 50000") });
    expect(await rt.process.exec("t:sieve_fuel", "t:fueled", 1_000_000)).toEqual({ value: 78498 });
  });
});

describe("max_memory", () => {
  it("a memory bomb stops at max_memory with a limit EXIT; growth within it works", async () => {
    const rt = await open();
    // 256 KiB = 4 pages; the module starts with 1
    expect(await rt.process.exec("t:grow", "t:hosts", 3)).toEqual({ value: 4 });
    expect(errorOf(await rt.process.exec("t:grow", "t:hosts", 1000))).toEqual({
      kind: "limit",
      message: "tried to grow its memory by 1 page, past max_memory (limit max_memory: 262144); raise max_memory in the entry's limits or the process.host's defaults",
    });
  });

  it("a component that allocates past max_memory ends with kind limit, not a trap", async () => {
    const rt = await open();
    const r = await rt.process.exec("t:hog", "t:hosts", 64);
    expect(errorOf(r)).toMatchObject({ kind: "limit", message: expect.stringContaining("limit max_memory: 8388608") });
    expect(await rt.process.exec("t:hog", "t:hosts", 2)).toEqual({ value: 2 });
  });

  it("a module whose initial memory is already past max_memory fails at spawn with kind limit", async () => {
    const rt = await open();
    expect(errorOf(await rt.process.exec("t:small_memory", "t:hosts"))).toMatchObject({ kind: "limit", message: expect.stringContaining("max_memory: 1024") });
  });
});

describe("default max_memory (256 MiB)", () => {
  const DEFAULT_LIMIT = "tried to grow its memory by 4096 pages, past max_memory (limit max_memory: 268435456, the default); raise max_memory in the entry's limits or the process.host's defaults";

  it("an entry without limits that grows past 256 MiB ends with kind limit", async () => {
    const rt = await open();
    // 256 MiB = 4096 pages; the module starts with 1
    expect(await rt.process.exec("t:grow_free", "t:hosts", 4095)).toEqual({ value: 4096 });
    expect(errorOf(await rt.process.exec("t:grow_free", "t:hosts", 4096))).toEqual({ kind: "limit", message: DEFAULT_LIMIT });
  });

  it("a host's limits.max_memory raises it, and so does an entry's", async () => {
    const rt = await open();
    expect(await rt.process.exec("t:grow_free", "t:roomy", 4096)).toEqual({ value: 4097 });
    expect(await rt.process.exec("t:grow_raised", "t:hosts", 4096)).toEqual({ value: 4097 });
  });

  it("a module declaring a 4 GiB initial memory is refused at spawn, naming max_memory", async () => {
    const rt = await open();
    expect(errorOf(await rt.process.exec("t:huge", "t:hosts"))).toEqual({
      kind: "limit",
      message: "needed 61440 more pages of memory than max_memory allows (limit max_memory: 268435456, the default); raise max_memory in the entry's limits or the process.host's defaults",
    });
  });
});

describe("preemption", () => {
  it("two CPU-bound processes interleave: both are preempted and resumed before either finishes", async () => {
    const events: { pid: string; type: string }[] = [];
    const rt = await open(YAML, (ev) => {
      if (ev.type === "@xstate.event") {
        const id = (ev.actorRef as unknown as { id: string }).id;
        const type = (ev.event as { type: string }).type;
        if (id.startsWith("{t:hosts")) events.push({ pid: id, type });
      }
    });
    await rt.process.exec("t:sieve_c", "t:hosts", 10); // warm the loader
    events.length = 0;
    const [a, b] = await Promise.all([rt.process.exec("t:sieve_c", "t:hosts", 20_000_000), rt.process.exec("t:sieve_c", "t:hosts", 20_000_000)]);
    expect(a).toEqual({ value: 1270607 });
    expect(b).toEqual({ value: 1270607 });
    const pids = [...new Set(events.map((e) => e.pid))];
    expect(pids).toHaveLength(2);
    const firstClose = events.findIndex((e) => e.type === "CLOSE");
    for (const pid of pids) {
      const before = events.slice(0, firstClose).filter((e) => e.pid === pid).map((e) => e.type);
      expect(before).toContain("SUSPEND");
      expect(before).toContain("RESUME");
    }
  });

  it("a host with preempt: false runs its guests without preemption points, and refuses fuel", async () => {
    const states: string[] = [];
    const rt = await open(YAML, (ev) => {
      if (ev.type === "@xstate.snapshot" && (ev.actorRef as unknown as { id: string }).id.startsWith("{t:trusted")) {
        const value = String((ev.snapshot as unknown as { value: unknown }).value);
        if (states.at(-1) !== value) states.push(value); // LOADED (instantiate) stays in init
      }
    });
    expect(await rt.process.exec("t:sieve_c", "t:trusted", 20_000_000)).toEqual({ value: 1270607 });
    expect(states).toEqual(["init", "stepping", "closed"]);
    expect(errorOf(await rt.process.exec("t:sieve_fuel", "t:trusted", 10))).toMatchObject({ kind: "spawn", message: expect.stringContaining("preempt: false") });
  });

  it("a host with preempt: false refuses max_execution_ms at spawn too, naming both", async () => {
    const rt = await open();
    expect(errorOf(await rt.process.exec("t:answer_timed", "t:trusted"))).toEqual({
      kind: "spawn",
      message: "t:answer_timed: limits.max_execution_ms needs preemption, but process.host t:trusted has preempt: false; drop the limit or spawn on another host",
    });
    expect(errorOf(await rt.process.exec("t:answer_both", "t:trusted"))).toEqual({
      kind: "spawn",
      message: "t:answer_both: limits.max_execution_ms and limits.fuel need preemption, but process.host t:trusted has preempt: false; drop them or spawn on another host",
    });
    expect(await rt.process.exec("t:answer_timed", "t:hosts")).toEqual({ value: 42 });
  });
});
