// Pooled linear memories (issue 8): a process gets its memory from its host's pool, a
// closed process's memory is zeroed before the next one sees it, grown memories and
// memories of processes killed mid-call are not reused, and the pool stays bounded in
// count and in bytes and never keeps a large memory (issue 13, item 6). Since instances
// are reused (issue 17, item 2; test/instance-reuse.test.ts), a memory may come back
// inside its instance instead: these tests count both pools.

import { runtimeInternals } from "../src/runtime.ts";
import { describe, expect, it } from "vitest";
import { LARGEST_POOLED_PAGES, MemoryPool } from "../src/process/memory-pool.ts";
import { useRuntimes } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";

const openProject = useRuntimes("pool");

const YAML = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 20000 } }
  - { name: write, kind: process.wasm, fs: bin, path: /secrets.wasm, hash: "{{hash:wasm/secrets.wasm}}", method: write }
  - { name: scan, kind: process.wasm, fs: bin, path: /secrets.wasm, hash: "{{hash:wasm/secrets.wasm}}", method: scan }
  - { name: grow, kind: process.wasm, fs: bin, path: /secrets.wasm, hash: "{{hash:wasm/secrets.wasm}}", method: grow_write }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
`;

async function open() {
  const { runtime: rt } = await openProject(YAML, { "wasm/secrets.wasm": "core/secrets.wasm", "wasm/sleeper.wasm": "c/sleeper.core.wasm" });
  const host = runtimeInternals(rt).hosts.get("t:hosts")!;
  return { rt, pool: host.memoryPool, instances: host.instancePool };
}

describe("memory pool", () => {
  it("the next process gets the last one's memory, zeroed: no byte of the secret is left", async () => {
    const { rt, pool, instances } = await open();
    expect(await rt.process.exec("t:scan", "t:hosts")).toEqual({ value: 5 }); // fresh: the data segment's "wippy"
    expect(await rt.process.exec("t:write", "t:hosts", 0x5ec12e75)).toEqual({ value: 16384 });
    const before = pool.stats.hits + instances.stats.hits;
    expect(await rt.process.exec("t:scan", "t:hosts")).toEqual({ value: 5 });
    expect(pool.stats.hits + instances.stats.hits).toBe(before + 1); // it was the pooled memory (alone or in its instance), and it was clean
  });

  it("a process that grew its memory does not give it back", async () => {
    const { rt, pool, instances } = await open();
    await rt.process.exec("t:scan", "t:hosts");
    const { dropped } = pool.stats;
    const size = pool.stats.size + instances.stats.size;
    expect(await rt.process.exec("t:grow", "t:hosts", 7)).toEqual({ value: 2 });
    expect(pool.stats.dropped).toBe(dropped + 1);
    expect(pool.stats.size + instances.stats.size).toBe(size - 1); // it took one from a pool and did not return it
    expect(await rt.process.exec("t:scan", "t:hosts")).toEqual({ value: 5 });
  });

  it("a process killed while its guest is suspended does not give its memory back", async () => {
    const { rt, pool } = await open();
    const pid = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
    await until(() => rt.processes().find((p) => p.pid === pid)?.state === "suspended", 10_000, "the sleeper asleep");
    const { returned, dropped } = pool.stats;
    rt.process.terminate(pid);
    expect(await rt.process.receive(1000)).toMatchObject({ type: "EXIT", from: pid, error: { kind: "killed" } });
    expect(pool.stats.returned).toBe(returned);
    expect(pool.stats.dropped).toBe(dropped + 1);
  });

  it("stays within its bound over 10 000 spawns, 1 000 at a time", { timeout: 60_000 }, async () => {
    const { rt, pool } = await open();
    let largest = 0;
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(Array.from({ length: 1000 }, () => rt.process.exec("t:scan", "t:hosts")));
      expect(results.every((r) => "value" in r && r.value === 5)).toBe(true);
      largest = Math.max(largest, pool.stats.size);
    }
    expect(largest).toBeLessThanOrEqual(pool.capacity);
    expect(pool.stats.size).toBe(pool.capacity); // 1 000 came back at once; the rest were dropped
    expect(pool.stats.bytes).toBe(pool.capacity * 65_536);
    expect(pool.stats.bytes).toBeLessThanOrEqual(pool.maxBytes);
    expect(pool.stats.hits).toBeGreaterThan(2000);
  });
});

describe("memory pool bounds", () => {
  const PAGE = 65_536;

  it("keeps at most its byte cap across shapes, whatever the count allows", () => {
    const pool = new MemoryPool({ count: 100, bytes: 6 * PAGE });
    const memories = [1, 2, 1, 2, 1, 2].map((pages) => ({ pages, memory: pool.take(pages, undefined) }));
    for (const { pages, memory } of memories) pool.give(memory, pages, undefined);
    // 1 + 2 + 1 + 2 pages fit in 6; the last two would pass the cap
    expect(pool.stats).toMatchObject({ size: 4, bytes: 6 * PAGE, returned: 4, dropped: 2 });
    pool.take(2, undefined);
    expect(pool.stats).toMatchObject({ size: 3, bytes: 4 * PAGE, hits: 1 });
  });

  it("never keeps a memory larger than LARGEST_POOLED_PAGES, even with room for it", () => {
    const pool = new MemoryPool({ count: 100, bytes: 1024 * PAGE });
    const large = pool.take(LARGEST_POOLED_PAGES + 1, undefined);
    pool.give(large, LARGEST_POOLED_PAGES + 1, undefined);
    expect(pool.stats).toMatchObject({ size: 0, bytes: 0, dropped: 1 });
    const largest = pool.take(LARGEST_POOLED_PAGES, undefined);
    pool.give(largest, LARGEST_POOLED_PAGES, undefined);
    expect(pool.stats).toMatchObject({ size: 1, bytes: LARGEST_POOLED_PAGES * PAGE });
  });

  it("hands a memory back zeroed", () => {
    const pool = new MemoryPool();
    const memory = pool.take(1, 4);
    new Uint8Array(memory.buffer).fill(0xa5);
    pool.give(memory, 1, 4);
    const again = pool.take(1, 4);
    expect(again).toBe(memory);
    expect(new Uint8Array(again.buffer).every((b) => b === 0)).toBe(true);
  });

  it("a module declaring a 4 GiB initial memory runs and exits, and the pool keeps none of it", async () => {
    const { runtime: rt } = await openProject(
      `namespace: h
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: huge, kind: process.wasm, fs: bin, path: /hugemem.wasm, hash: "{{hash:wasm/hugemem.wasm}}", method: pages, limits: { max_memory: 4GiB } }
`,
      { "wasm/hugemem.wasm": "core/hugemem.wasm" },
    );
    const pool = runtimeInternals(rt).hosts.get("h:hosts")!.memoryPool;
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => rt.process.exec("h:huge", "h:hosts")));
      expect(results).toEqual(Array.from({ length: 4 }, () => ({ value: 65_536 })));
      expect(pool.stats).toMatchObject({ size: 0, bytes: 0, hits: 0 });
    }
    expect(pool.stats.dropped).toBe(12);
  });
});

describe("memory pool, components", () => {
  it("a component's core memory comes from the pool too, and the component still works on it", async () => {
    const { runtime: rt } = await openProject(
      `namespace: c
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: greet, kind: process.wasm, fs: bin, path: /greet.wasm, hash: "{{hash:wasm/greet.wasm}}", method: greet }
`,
      { "wasm/greet.wasm": "components/greet/greet.wasm" },
    );
    const pool = runtimeInternals(rt).hosts.get("c:hosts")!.memoryPool;
    expect(await rt.process.exec("c:greet", "c:hosts", "Ada")).toEqual({ value: "Hello, Ada!" });
    expect(pool.stats.size).toBeGreaterThan(0); // its memory came back
    const { hits } = pool.stats;
    expect(await rt.process.exec("c:greet", "c:hosts", "Grace")).toEqual({ value: "Hello, Grace!" });
    expect(pool.stats.hits).toBeGreaterThan(hits);
  });
});
