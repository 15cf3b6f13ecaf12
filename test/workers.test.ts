// Worker threads (SPEC 8): a host with `workers` runs its WASM processes on a pool of
// threads, and nothing else changes: one pid format, ordered messages between a pair,
// monitors and links across threads, exactly one EXIT per process even when a worker
// dies, supervisors restarting on the workers that remain, no worker after close().

import { describe, expect, it } from "vitest";
import type { AnyActorRef, InspectionEvent } from "xstate";
import { fromProcess, Runtime, type ExitEvent } from "../src/index.ts";
import { runtimeInternals } from "../src/runtime.ts";
import { workerCount } from "../src/threads/workers.ts";
import { loadRegistry } from "../src/registry/index.ts";
import { exitOf, HOST, message, PROBE_BINARIES, PROBE_YAML, upTo } from "./helpers/guests.ts";
import { makeProject, useRuntimes } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";
import { RuntimeObserver } from "../src/observe/model.ts";
import { OBSERVER_PAGE } from "../src/observe/page.ts";

const open = useRuntimes("workers");
const WORKERS_YAML = PROBE_YAML.replace("host: { max_processes: 20000 }", "host: { max_processes: 20000, workers: 2 }")
  + "  - { name: main, kind: process.host }\n";

async function probe(): Promise<Runtime> {
  return (await open(WORKERS_YAML, PROBE_BINARIES)).runtime;
}

const pool = (rt: Runtime) => runtimeInternals(rt).pools.get(HOST)!;
const threadOf = (rt: Runtime, pid: string) => rt.processes().find((p) => p.pid === pid)?.thread;

describe("workers in the registry", () => {
  it("takes a whole number ≥ 0 or auto, and refuses anything else with the field named", async () => {
    const ok = makeProject(`
namespace: t
entries:
  - { name: a, kind: process.host, host: { workers: 0 } }
  - { name: b, kind: process.host, host: { workers: auto } }
  - { name: c, kind: process.host, host: { workers: 3 } }
`);
    const reg = await loadRegistry({ root: ok.root });
    expect(["t:a", "t:b", "t:c"].map((id) => (reg.entries.get(id) as { workers?: unknown }).workers)).toEqual([0, "auto", 3]);
    const bad = makeProject(`
namespace: t
entries:
  - { name: a, kind: process.host, host: { workers: many } }
`);
    await expect(loadRegistry({ root: bad.root })).rejects.toThrow(/t:a.*host\.workers.*whole number of worker threads.*or auto/);
  });

  it("auto is one per core; unset is the main thread unless WIPPY_WORKERS says otherwise", () => {
    expect(workerCount("auto", {})).toBeGreaterThanOrEqual(1);
    expect(workerCount(undefined, {})).toBe(0);
    expect(workerCount(undefined, { WIPPY_WORKERS: "2" })).toBe(2);
    expect(workerCount(0, { WIPPY_WORKERS: "2" })).toBe(0);
    expect(() => workerCount(undefined, { WIPPY_WORKERS: "two" })).toThrow(RangeError);
  });
});

describe("placement", () => {
  it("spreads a host's WASM processes over its workers (least loaded); TS actors and other hosts stay on thread 0", async () => {
    const rt = await probe();
    const echoes: string[] = [];
    for (const _ of upTo(4)) echoes.push(await rt.process.spawn("probe:echo", HOST));
    await until(() => echoes.every((p) => rt.processes().find((i) => i.pid === p)?.state === "suspended"), 30_000, "the echoes to wait in receive");
    const threads = echoes.map((p) => threadOf(rt, p));
    expect(new Set(threads)).toEqual(new Set([1, 2]));
    expect(threads.filter((t) => t === 1)).toHaveLength(2);
    const actor = await rt.spawnActor(fromProcess(async ({ receive }) => receive()), { host: HOST });
    expect(threadOf(rt, actor)).toBe(0);
    const onMain = await rt.process.spawn("probe:echo", "probe:main");
    expect(threadOf(rt, onMain)).toBe(0);
    // the pid has the one format whichever thread runs it
    for (const p of [...echoes, actor, onMain]) expect(p).toMatch(/^\{probe:(hosts|main)\|[0-9A-Za-z]{12}\}$/);
  });

  it("a host that names workers has them loaded when open() resolves; one that takes WIPPY_WORKERS starts them at its first spawn", async () => {
    const rt = await probe();
    expect(pool(rt).threads).toHaveLength(2); // before any spawn
    const before = process.env.WIPPY_WORKERS;
    process.env.WIPPY_WORKERS = "3";
    const project = makeProject(PROBE_YAML, PROBE_BINARIES);
    const lazy = await Runtime.open({ root: project.root, stdio: { stdout() {}, stderr() {} } });
    if (before === undefined) delete process.env.WIPPY_WORKERS;
    else process.env.WIPPY_WORKERS = before;
    try {
      const lazyPool = runtimeInternals(lazy).pools.get(HOST)!;
      expect(lazyPool.threads).toHaveLength(0);
      const pid = await lazy.process.spawnMonitored("probe:compute", HOST, 6, 7);
      expect(lazyPool.threads).toHaveLength(3);
      expect(threadOf(lazy, pid)).toBeGreaterThan(0);
      expect(await exitOf(lazy.process, pid)).toEqual({ value: 42 });
    } finally {
      await lazy.close(100);
    }
  });

  it("a worker process computes and ends with its value, and a spawn refusal is the same as on the main thread", async () => {
    const rt = await probe();
    const pid = await rt.process.spawnMonitored("probe:compute", HOST, 6, 7);
    expect(await exitOf(rt.process, pid)).toEqual({ value: 42 });
    const trap = await rt.process.spawnMonitored("probe:trap", HOST);
    expect(await exitOf(rt.process, trap)).toMatchObject({ error: { kind: "trap" } });
    await expect(rt.process.spawn("probe:nothing", HOST)).rejects.toThrow(/no entry probe:nothing/);
  });
});

describe("messages across threads", () => {
  it("a TypeScript process and a worker guest exchange 2 000 messages in send order both ways", async () => {
    const rt = await probe();
    const echo = await rt.process.spawnMonitored("probe:echo", HOST);
    const sends = upTo(2000).map((i) => rt.process.send(echo, "n", i));
    expect(await Promise.all(sends)).toEqual(upTo(2000).map(() => true));
    const got: unknown[] = [];
    for (const _ of upTo(2000)) got.push(((await rt.process.receive({ match: message("echo", echo), timeout: 30_000 })) as { payload?: unknown } | null)?.payload);
    expect(got).toEqual(upTo(2000));
    await rt.process.cancel(echo, "done");
    expect(await exitOf(rt.process, echo)).toEqual({ value: { echoed: 2000, reason: "done" } });
  });

  it("guests on two different workers: 3 000 messages arrive in order", async () => {
    const rt = await probe();
    const collector = await rt.process.spawnMonitored("probe:collect", HOST, 3000);
    const sender = await rt.process.spawnMonitored("probe:sender", HOST, 3000);
    expect(threadOf(rt, collector)).not.toBe(threadOf(rt, sender));
    await rt.process.send(sender, "to", collector);
    expect(await exitOf(rt.process, sender, 60_000)).toEqual({ value: 3000 });
    expect(await exitOf(rt.process, collector, 60_000)).toEqual({ value: 3000 });
  });

  it("a guest on the main thread and one on a worker: 1 000 messages in order (the main-thread guest suspends on each answer)", async () => {
    const rt = await probe();
    const collector = await rt.process.spawnMonitored("probe:collect", HOST, 1000);
    const sender = await rt.process.spawnMonitored("probe:sender", "probe:main", 1000);
    expect(threadOf(rt, sender)).toBe(0);
    expect(threadOf(rt, collector)).toBeGreaterThan(0);
    await rt.process.send(sender, "to", collector);
    expect(await exitOf(rt.process, sender, 60_000)).toEqual({ value: 1000 });
    expect(await exitOf(rt.process, collector, 60_000)).toEqual({ value: 1000 });
  });

  it("a full mailbox on a worker rejects TypeScript's send with MailboxFullError, nothing enqueued", async () => {
    const rt = await probe();
    const napper = await rt.process.spawnMonitored("probe:nap", HOST, 1000);
    for (const i of upTo(3)) expect(await rt.process.send(napper, "m", i)).toBe(true);
    await expect(rt.process.send(napper, "m", 3)).rejects.toMatchObject({ name: "MailboxFullError", pid: napper });
    expect(await exitOf(rt.process, napper)).toEqual({ value: 3 });
  });

  it("send to a worker pid that has ended resolves false", async () => {
    const rt = await probe();
    const pid = await rt.process.spawnMonitored("probe:compute", HOST, 1, 1);
    await exitOf(rt.process, pid);
    expect(await rt.process.send(pid, "late", 1)).toBe(false);
  });
});

describe("monitors and links across threads", () => {
  it("a worker guest monitors a process it spawns (placed by the main thread) and gets its EXIT", async () => {
    const rt = await probe();
    const pid = await rt.process.spawnMonitored("probe:monitor_entry", HOST, 0);
    expect(await exitOf(rt.process, pid)).toMatchObject({ value: { event: 2, error: 0, payload: 42 } });
    const trapped = await rt.process.spawnMonitored("probe:monitor_entry", HOST, 1);
    expect(await exitOf(rt.process, trapped)).toMatchObject({ value: { event: 2, error: 1 } });
  });

  it("a worker guest trapping links gets LINK_DOWN; one that does not is taken down (kind link)", async () => {
    const rt = await probe();
    const trapping = await rt.process.spawnMonitored("probe:trap_links", HOST, 1);
    expect(await exitOf(rt.process, trapping)).toMatchObject({ value: { event: 3, error: 1 } });
    const plain = await rt.process.spawnMonitored("probe:trap_links", HOST, 0);
    expect(await exitOf(rt.process, plain)).toMatchObject({ error: { kind: "link" } });
  });

  it("a TypeScript actor linked to a worker guest goes down with it; a monitor of an ended worker pid gets noproc", async () => {
    const rt = await probe();
    const echo = await rt.process.spawnMonitored("probe:echo", HOST);
    const linked = await rt.spawnActor(fromProcess(async ({ link, receive }) => {
      await link(echo);
      await receive();
    }), { host: "probe:main", monitor: true });
    await until(() => rt.processes().find((p) => p.pid === linked)?.state === "suspended", 30_000, "the actor to wait");
    await rt.process.terminate(echo);
    expect(await exitOf(rt.process, echo)).toMatchObject({ error: { kind: "killed" } });
    expect(await exitOf(rt.process, linked)).toMatchObject({ error: { kind: "link" } });
    await rt.process.monitor(echo);
    expect(await exitOf(rt.process, echo)).toMatchObject({ error: { kind: "noproc" } });
  });

  it("cancel reaches a worker guest as CANCEL; terminate ends one at once", async () => {
    const rt = await probe();
    const waiter = await rt.process.spawnMonitored("probe:wait_event", HOST, -1);
    await until(() => rt.processes().find((p) => p.pid === waiter)?.state === "suspended", 30_000, "the guest to wait in receive");
    await rt.process.cancel(waiter, "stop");
    expect(await exitOf(rt.process, waiter)).toEqual({ value: 4 });
  });
});

describe("worker loss", () => {
  it("10 000 processes over 2 workers, one worker killed: exactly 10 000 EXITs, the lost ones killed naming the worker, the host replaces it", { timeout: 240_000 }, async () => {
    const rt = await probe();
    const exits = new Map<string, ExitEvent[]>();
    rt.onExit((e) => exits.set(e.from, [...(exits.get(e.from) ?? []), e]));
    const pids: string[] = [];
    for (const _ of upTo(10_000)) pids.push(await rt.process.spawn("probe:wait_event", HOST, -1));
    await until(() => rt.processes().filter((p) => p.state === "suspended").length === 10_000, 180_000, "10 000 guests to wait in receive");
    const victim = pool(rt).threads.find((t) => t.thread === 1)!;
    const onVictim = new Set(rt.processes().filter((p) => p.thread === 1).map((p) => p.pid));
    expect(onVictim.size).toBe(5000);
    await victim.terminate();
    await until(() => exits.size === 5000, 60_000, "the lost worker's processes to end");
    for (const pid of onVictim) {
      expect(exits.get(pid)).toHaveLength(1);
      expect(exits.get(pid)![0]).toMatchObject({ error: { kind: "killed", message: expect.stringMatching(/worker thread 1 of host probe:hosts was lost/) } });
    }
    // the others run on; a replacement worker takes new processes
    expect(rt.processes().filter((p) => p.thread === 2)).toHaveLength(5000);
    await until(() => pool(rt).threads.length === 2, 30_000, "a replacement worker");
    const fresh = await rt.process.spawnMonitored("probe:compute", HOST, 6, 7);
    expect(threadOf(rt, fresh)).toBe(3);
    expect(await exitOf(rt.process, fresh)).toEqual({ value: 42 });
    await rt.close(10_000);
    expect(exits.size).toBe(10_001);
    for (const pid of pids) expect(exits.get(pid)).toHaveLength(1);
  });

  it("a supervisor restarts a child lost with its worker on the workers that remain", async () => {
    const rt = await probe();
    const sup = rt.startSupervisor({ id: "wsup", children: [{ id: "echo", process: "probe:echo", host: HOST, restart: "permanent" }] });
    await until(async () => (await sup.whichChildren())[0]?.state === "running", 30_000, "the child to run");
    const first = (await sup.whichChildren())[0]!.pid!;
    const thread = threadOf(rt, first)!;
    expect(thread).toBeGreaterThan(0);
    await pool(rt).threads.find((t) => t.thread === thread)!.terminate();
    await until(async () => {
      const c = (await sup.whichChildren())[0]!;
      return c.pid !== null && c.pid !== first && c.state === "running";
    }, 30_000, "the restart");
    const second = (await sup.whichChildren())[0]!.pid!;
    expect(threadOf(rt, second)).not.toBe(thread);
    expect(await rt.process.send(second, "hi", 1)).toBe(true);
    expect(await rt.process.receive({ match: message("echo", second), timeout: 30_000 })).toMatchObject({ payload: 1 });
  });
});

describe("shutdown, stdio and inspection", () => {
  it("close() stops the processes on workers, then the workers: none is left", async () => {
    const { runtime: rt } = await open(WORKERS_YAML, PROBE_BINARIES);
    for (const _ of upTo(20)) await rt.process.spawn("probe:echo", HOST);
    await until(() => rt.processes().filter((p) => p.state === "suspended").length === 20, 30_000, "the echoes to wait");
    const ended: ExitEvent[] = [];
    rt.onExit((e) => ended.push(e));
    await rt.close(5000);
    expect(new Set(ended.map((e) => e.from)).size).toBe(20);
    // each ended through the runtime's shutdown (CANCEL in receive: its own result), not by losing its worker
    for (const e of ended) expect(e).toMatchObject({ value: { echoed: 0, reason: "runtime closing" } });
    expect(pool(rt).threads).toHaveLength(0);
    expect(rt.processes()).toHaveLength(0);
  });

  it("a worker guest's stdout reaches the runtime's Stdio", async () => {
    const { runtime: rt, io } = await open(`
namespace: app
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { workers: 2 } }
  - { name: hello, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:wasm/hello.wasm}}", method: _start, imports: [wasi:cli] }
`, { "wasm/hello.wasm": "c/hello.core.wasm" });
    const pid = await rt.process.spawnMonitored("app:hello", "app:hosts", "worker");
    expect(threadOf(rt, pid)).toBeGreaterThan(0);
    expect(await exitOf(rt.process, pid)).toEqual({ value: 0 });
    expect(io.stdout(pid)).toMatch(/worker/);
  });

  it("the observer model gives each process's thread and a count per thread, idle workers included; the page shows them", async () => {
    const rt = await probe();
    const echoes: string[] = [];
    for (const _ of upTo(3)) echoes.push(await rt.process.spawn("probe:echo", HOST));
    await rt.spawnActor(fromProcess(async ({ receive }) => receive()), { host: "probe:main" });
    await until(() => rt.processes().filter((p) => p.state === "suspended").length === 4, 30_000, "the processes to wait");
    const observer = new RuntimeObserver(rt);
    try {
      const o = observer.snapshot();
      expect(o.threads).toEqual([
        { thread: 0, host: null, processes: 1 },
        { thread: 1, host: HOST, processes: 2 },
        { thread: 2, host: HOST, processes: 1 },
      ]);
      expect(o.processes.filter((p) => echoes.includes(p.pid)).map((p) => p.thread).sort()).toEqual([1, 1, 2]);
    } finally {
      observer.close();
    }
    expect(OBSERVER_PAGE).toContain("<th class=num>thread</th>");
    expect(OBSERVER_PAGE).toContain('"worker " + r.thread');
  });

  it("an inspected worker process is in the runtime's one tree under its host, its transitions forwarded", async () => {
    const rt = await probe();
    const seen: { id: string; parent: string | undefined; rootId: string }[] = [];
    const states: unknown[] = [];
    let pid = "";
    rt.inspect((e: InspectionEvent) => {
      const ref = e.actorRef as AnyActorRef;
      if (e.type === "@xstate.actor") seen.push({ id: ref.id, parent: ref._parent?.id, rootId: e.rootId });
      if (e.type === "@xstate.snapshot" && ref.id === pid) states.push((e.snapshot as unknown as { value: unknown }).value);
    });
    pid = await rt.process.spawnMonitored("probe:wait_event", HOST, 50);
    expect(await exitOf(rt.process, pid)).toEqual({ value: 0 });
    expect(seen.find((a) => a.id === pid)?.parent).toBe(HOST);
    expect(new Set(seen.map((a) => a.rootId)).size).toBe(1);
    expect(states).toContain("suspended");
    expect(states.at(-1)).toBe("closed");
  });
});
