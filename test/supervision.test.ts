// OTP scenarios (issue 5, item 5) against the real runtime, each run with WASM
// children and with TypeScript ones (issue 14, item 10): one body, two kits
// that carry what each kind's ends look like.

import { runtimeInternals } from "../src/runtime.ts";
import { describe, expect, it } from "vitest";
import type { ExitEvent, Runtime } from "../src/index.ts";
import type { SupervisionEvent } from "../src/supervision/index.ts";
import { SupervisorSpecError } from "../supervisors/spec.ts";
import { behave, CHILD_KITS, sleep, sleeper, SUP_YAML, tsCrasher, tsKit, tsSleeper, until, useSupervised, wasmKit } from "./helpers/supervision.ts";

const open = useSupervised();

const exits = (events: SupervisionEvent[], outcome?: string) =>
  events.flatMap((e) => (e.type === "child.exited" && (!outcome || e.outcome === outcome) ? [e] : []));
const pids = async (rt: Runtime, id: string) => (await rt.supervisor(id).children()).map((c) => c.pid);

describe.each(CHILD_KITS)("with %s children", (_name, kit) => {
  const ofKind = (rt: Runtime) => rt.processes().filter((p) => p.kind === kit.kind);

  describe("one_for_one", () => {
    it("restarts only the failed child and counts its restarts", async () => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: "o41", intensity: 10, period: 60_000, children: [kit.sleeper("a"), kit.sleeper("b"), kit.sleeper("c")] });
      const [a, b0, c] = await pids(rt, "o41");
      const seen = new Set([b0]);
      for (let k = 1; k <= 3; k++) {
        await rt.process.terminate((await sup.children())[1]!.pid!);
        await until(async () => (await sup.children())[1]!.state === "running" && (await sup.children())[1]!.restarts === k, 3000, `restart ${k}`);
        seen.add((await sup.children())[1]!.pid);
      }
      expect(seen.size).toBe(4); // a fresh pid every time
      expect((await sup.children())).toEqual([
        { id: "a", pid: a, kind: "worker", state: "running", restarts: 0 },
        { id: "b", pid: expect.any(String), kind: "worker", state: "running", restarts: 3 },
        { id: "c", pid: c, kind: "worker", state: "running", restarts: 0 },
      ]);
      expect(rt.processes().map((p) => p.kind)).toEqual(["supervisor", kit.kind, kit.kind, kit.kind]);
    });

    it("more than `intensity` restarts within `period`: children stopped, the supervisor exits with kind limit", async () => {
      const { runtime: rt, events } = await open();
      // onExit is attached first: a TS child crashes within microtasks, before a monitor set up afterwards could see it
      const ended: ExitEvent[] = [];
      rt.onExit((e) => void ended.push(e));
      const sup = rt.startSupervisor({ id: "lim", intensity: 2, period: 60_000, children: [kit.sleeper("steady"), kit.behave("flaky", 1)] });
      const steady = events.flatMap((e) => (e.type === "child.started" && e.child === "steady" ? [e.pid] : []))[0];
      const result = await sup.done;
      expect(result).toEqual({ error: { kind: "limit", message: expect.stringMatching(new RegExp(`^lim: more than 2 restarts within 60000 ms; last: flaky ${kit.crashKind}`)) } });
      expect((await sup.children())).toEqual([
        { id: "steady", pid: null, kind: "worker", state: "stopped", restarts: 0 },
        { id: "flaky", pid: null, kind: "worker", state: "stopped", restarts: 2 },
      ]);
      expect(exits(events).filter((e) => e.child === "flaky").map((e) => e.outcome)).toEqual(["restart", "restart", "give-up"]);
      expect(exits(events).filter((e) => e.child === "flaky").map((e) => "error" in e.result && e.result.error.kind)).toEqual([kit.crashKind, kit.crashKind, kit.crashKind]);
      // the bystander was stopped before the supervisor ended
      expect(ended.filter((e) => e.from === steady || e.from === sup.pid)).toEqual([
        { type: "EXIT", from: steady, ...kit.cancelled },
        { type: "EXIT", from: sup.pid, error: expect.objectContaining({ kind: "limit" }) },
      ]);
      expect(rt.processes()).toEqual([]);
    });

    it("restarts spaced wider than `period` never trip the limit", async () => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: "spaced", intensity: 1, period: 250, children: [kit.sleeper("x")] });
      for (let k = 1; k <= 4; k++) {
        await rt.process.terminate((await sup.children())[0]!.pid!);
        await until(async () => (await sup.children())[0]!.restarts === k && (await sup.children())[0]!.state === "running");
        await sleep(300);
      }
      expect(sup.state).toBe("running");
      // Two within the period do trip it.
      await rt.process.terminate((await sup.children())[0]!.pid!);
      await until(async () => (await sup.children())[0]!.state === "running" && (await sup.children())[0]!.restarts === 5);
      await rt.process.terminate((await sup.children())[0]!.pid!);
      expect(await sup.done).toMatchObject({ error: { kind: "limit" } });
    });
  });

  describe("one_for_all and rest_for_one", () => {
    it("one_for_all: every child comes back with a new pid; no old pid is left", async () => {
      const { runtime: rt, events } = await open();
      const sup = rt.startSupervisor({ id: "all", strategy: "one_for_all", intensity: 5, children: [kit.sleeper("a"), kit.sleeper("b"), kit.sleeper("c")] });
      const old = (await pids(rt, "all")) as string[];
      for (const p of old) await rt.process.monitor(p);
      await rt.process.terminate(old[1]!);
      await until(async () => (await sup.children()).every((c) => c.state === "running" && c.restarts === 1), 3000, "all restarted");
      const fresh = await pids(rt, "all");
      expect(fresh.filter((p) => old.includes(p!))).toEqual([]);
      expect(ofKind(rt).map((p) => p.pid).sort()).toEqual([...fresh].sort());
      // The failed one was killed; the others were stopped latest first.
      const got = [await rt.process.receive(30_000), await rt.process.receive(30_000), await rt.process.receive(30_000)];
      expect(got).toEqual([
        { type: "EXIT", from: old[1], error: expect.objectContaining({ kind: "killed" }) },
        { type: "EXIT", from: old[2], ...kit.cancelled },
        { type: "EXIT", from: old[0], ...kit.cancelled },
      ]);
      expect(exits(events, "planned").map((e) => e.child)).toEqual(["c", "a"]);
    });

    it("rest_for_one: restarts the failed child and those started after it, not those before", async () => {
      const { runtime: rt, events } = await open();
      const sup = rt.startSupervisor({ id: "rest", strategy: "rest_for_one", intensity: 5, children: [kit.sleeper("a"), kit.sleeper("b"), kit.sleeper("c"), kit.sleeper("d")] });
      const old = await pids(rt, "rest");
      await rt.process.terminate(old[1]!);
      await until(async () => (await sup.children()).every((c) => c.state === "running") && (await sup.children())[3]!.restarts === 1);
      const now = await pids(rt, "rest");
      expect(now[0]).toBe(old[0]);
      for (const i of [1, 2, 3]) expect(now[i]).not.toBe(old[i]);
      expect((await sup.children()).map((c) => c.restarts)).toEqual([0, 1, 1, 1]);
      expect(exits(events, "planned").map((e) => e.child)).toEqual(["d", "c"]);
      // Started again in order.
      const restarted = events.flatMap((e) => (e.type === "child.started" && e.restarts > 0 ? [e.child] : []));
      expect(restarted).toEqual(["b", "c", "d"]);
    });
  });

  describe("restart types", () => {
    // A long backoff freezes the decision: `restarting` (will come back) or `stopped` (stays down).
    const later = { initialDelay: 60_000, maxDelay: 60_000 };
    it.each([
      ["permanent", "normal", "restarting"],
      ["permanent", "error", "restarting"],
      ["transient", "normal", "stopped"],
      ["transient", "error", "restarting"],
      ["temporary", "normal", "stopped"],
      ["temporary", "error", "stopped"],
    ] as const)("%s child after a %s exit → %s", async (policy, exit, expected) => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: `m-${policy}-${exit}`, intensity: 5, children: [kit.behave("x", exit === "normal" ? 0 : 1, { restart: { policy, ...later } })] });
      const state = await until(async () => (["restarting", "stopped"].includes((await sup.children())[0]!.state) ? (await sup.children())[0]!.state : null));
      expect(state).toBe(expected);
      expect(sup.state).toBe("running");
    });

    it.each([
      ["cancelled", "stopped"],
      ["killed", "restarting"],
    ] as const)("transient child ended %s by someone else → %s", async (how, expected) => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: `t-${how}`, children: [kit.sleeper("x", { restart: { policy: "transient", ...later } })] });
      const pid = (await sup.children())[0]!.pid!;
      if (how === "killed") await rt.process.terminate(pid);
      else await rt.process.cancel(pid, "not needed");
      await until(async () => (await sup.children())[0]!.state !== "running");
      expect((await sup.children())[0]!.state).toBe(expected);
    });

    it("a temporary bystander is neither restarted nor counted", async () => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({
        id: "bystander", strategy: "one_for_all", intensity: 1, period: 60_000,
        children: [kit.sleeper("tmp", { restart: "temporary" }), kit.sleeper("p"), kit.behave("tmp_crash", 1, { restart: "temporary" })],
      });
      await until(async () => (await sup.children())[2]!.state === "stopped");
      const tmpPid = (await sup.children())[0]!.pid!;
      await rt.process.monitor(tmpPid);
      // The temporary crash used none of the intensity: one restart is still allowed.
      await rt.process.terminate((await sup.children())[1]!.pid!);
      await until(async () => (await sup.children())[1]!.restarts === 1 && (await sup.children())[1]!.state === "running");
      expect(sup.state).toBe("running");
      expect((await sup.children())).toEqual([
        { id: "tmp", pid: null, kind: "worker", state: "stopped", restarts: 0 },
        { id: "p", pid: expect.any(String), kind: "worker", state: "running", restarts: 1 },
        { id: "tmp_crash", pid: null, kind: "worker", state: "stopped", restarts: 0 },
      ]);
      expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: tmpPid, ...kit.cancelled });
    });
  });

  describe("escalation", () => {
    it("a child that cannot even be spawned fails the supervisor at start (kind spawn)", async () => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: "nohost", children: [kit.sleeper("a"), { id: "b", start: () => { throw new Error("no resources"); } }, kit.sleeper("c")] });
      expect(await sup.done).toEqual({ error: { kind: "spawn", message: "nohost: child b could not start: no resources" } });
      expect(rt.processes()).toEqual([]);
    });

    it("a linked process that fails takes the supervisor down in order (kind link)", async () => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: "linked", children: [kit.sleeper("a")] });
      const a = (await sup.children())[0]!.pid!;
      await rt.process.monitor(a);
      const h = rt.newProcess();
      await h.link(sup.pid);
      runtimeInternals(rt).table.get(h.pid)!.kill({ kind: "trap", message: "boom" });
      expect(await sup.done).toMatchObject({ error: { kind: "link", message: expect.stringContaining("boom") } });
      expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: a, ...kit.cancelled });
      expect(rt.processes()).toEqual([]);
    });
  });

  describe("backoff", () => {
    it("delays grow by the factor up to max_delay", async () => {
      const { runtime: rt, events } = await open();
      const sup = rt.startSupervisor({ id: "bo", intensity: 100, period: 60_000, children: [kit.behave("x", 1, { restart: { initialDelay: 40, maxDelay: 160, backoffFactor: 2, jitter: 0 } })] });
      await until(async () => (await sup.children())[0]!.restarts >= 5, 5000);
      await sup.stop();
      expect(exits(events, "restart").slice(0, 5).map((e) => e.delay)).toEqual([40, 80, 160, 160, 160]);
      const starts = events.flatMap((e) => (e.type === "child.started" ? [e] : []));
      expect(starts.length).toBeGreaterThanOrEqual(6);
    });

    it("max_attempts: a child that keeps failing makes the supervisor give up", async () => {
      const { runtime: rt } = await open();
      const sup = rt.startSupervisor({ id: "ma", intensity: 100, children: [kit.behave("x", 1, { restart: { initialDelay: 0, maxDelay: 0, maxAttempts: 2 } })] });
      expect(await sup.done).toMatchObject({ error: { kind: "limit", message: expect.stringMatching(new RegExp(`child x failed again after 2 restart attempts \\(max_attempts\\); last: ${kit.crashKind}`)) } });
      expect((await sup.children())[0]!.restarts).toBe(2);
    });

    it("a supervisor stuck waiting out a backoff can still be stopped at once", async () => {
      const { runtime: rt, events } = await open();
      const sup = rt.startSupervisor({ id: "stuck", intensity: 100, children: [kit.sleeper("ok"), kit.behave("x", 1, { restart: { initialDelay: 30_000, maxDelay: 30_000 } })] });
      await until(async () => (await sup.children())[1]!.state === "restarting");
      const t0 = Date.now();
      expect(await sup.stop("enough")).toEqual({ error: { kind: "cancelled", message: "enough" } });
      expect(Date.now() - t0).toBeLessThan(1000);
      expect((await sup.children()).map((c) => c.state)).toEqual(["stopped", "stopped"]);
      expect(events.filter((e) => e.type === "child.started" && e.child === "x")).toHaveLength(1);
      expect(rt.processes()).toEqual([]);
    });
  });

  describe("shutdown", () => {
    it("children stop in reverse start order; one past its stop_timeout ends killed", async () => {
      const { runtime: rt, events } = await open();
      const sup = rt.startSupervisor({ id: "shut", children: [kit.sleeper("first"), kit.stubborn("stubborn", { stopTimeout: 100 }), kit.sleeper("last")] });
      const t0 = Date.now();
      await sup.stop();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
      const stops = exits(events, "shutdown").map((e) => [e.child, "error" in e.result ? e.result.error.kind : "value"]);
      expect(stops).toEqual([["last", kit.cancelledAs], ["stubborn", "killed"], ["first", kit.cancelledAs]]);
    });

    it("runtime.close() stops the trees first, latest started first, then the rest; no EXIT lost", async () => {
      const { runtime: rt, events } = await open();
      const s1 = rt.startSupervisor({ id: "s1", children: [kit.sleeper("a"), { id: "n", supervisor: { id: "n", children: [kit.sleeper("n1"), kit.sleeper("n2")] } }] });
      rt.startSupervisor({ id: "s2", children: [kit.sleeper("b")] });
      const loose = await kit.spawnSleeper(rt);
      const watched = [...ofKind(rt).map((p) => p.pid), s1.pid];
      const watcher = rt.newProcess();
      for (const p of watched) await watcher.monitor(p);
      const order: string[] = [];
      runtimeInternals(rt).table.onExit((pid, _r, rec) => void order.push(rec.kind === "supervisor" ? `sup:${pid}` : pid));
      await rt.close();
      const stopped = events.flatMap((e) => (e.type === "child.exited" ? [e.child] : e.type === "supervisor.exited" ? [`/${e.supervisor}`] : []));
      expect(stopped).toEqual(["b", "/s2", "n2", "n1", "/n", "n", "a", "/s1"]);
      expect(order.indexOf(loose)).toBe(order.length - 1 - 2); // then the loose process (before the two mailboxes)
      expect(rt.processes()).toEqual([]);
    });
  });
});

describe("escalation with a WASM child whose hash is wrong", () => {
  it("a child that keeps failing to start takes down its supervisor, then the parent", async () => {
    const { runtime: rt, events } = await open();
    const sup = rt.startSupervisor({
      id: "outer", intensity: 1, period: 60_000,
      children: [
        sleeper("bystander"),
        { id: "inner", supervisor: { id: "inner", intensity: 1, period: 60_000, children: [{ id: "broken", process: "t:badhash", host: "t:hosts", input: [0], restart: { initialDelay: 0, maxDelay: 0 } }] } },
      ],
    });
    const result = await sup.done;
    expect(result).toMatchObject({ error: { kind: "limit", message: expect.stringMatching(/^outer: more than 1 restart within 60000 ms; last: inner limit: inner: more than 1 restart/) } });
    const broken = exits(events).filter((e) => e.child === "broken");
    expect(broken).toHaveLength(4); // two incarnations of inner, each: fail, restart, fail, give up
    expect(broken.every((e) => "error" in e.result && e.result.error.kind === "spawn")).toBe(true);
    expect(broken.map((e) => e.outcome)).toEqual(["restart", "give-up", "restart", "give-up"]);
    const inner = events.filter((e) => e.type === "supervisor.exited" && e.supervisor === "inner");
    expect(inner).toHaveLength(2);
    expect(rt.supervisor("inner").state).toBe("stopped");
    expect(rt.processes()).toEqual([]);
  });
});

describe("declared in YAML", () => {
  const TREE = `
  - name: root
    kind: process.supervisor
    strategy: one_for_one
    intensity: 5
    period: 10s
    children: [steady, workers]
    lifecycle: { auto_start: true }
  - name: workers
    kind: process.supervisor
    strategy: rest_for_one
    children: [w1, w2]
  - { name: steady, kind: process.service, process: sleeper, host: hosts, input: ["600000"], lifecycle: { stop_timeout: 2s } }
  - { name: w1, kind: process.service, process: sleeper, host: hosts, input: ["600000"], lifecycle: { restart: { initial_delay: 0ms, max_delay: 0ms } } }
  - { name: w2, kind: process.service, process: sleeper, host: hosts, input: ["600000"] }
  - { name: lone, kind: process.service, process: behave, host: hosts, input: [7], lifecycle: { auto_start: true, restart: { policy: transient } } }
  - { name: idle_sup, kind: process.supervisor, children: [] }
`;
  it("auto_start trees start on Runtime.open; supervisor(id).children() shows them in start order", async () => {
    const { runtime: rt, events } = await open(`${SUP_YAML}${TREE}`);
    expect((await rt.supervisor("t:root").children()).map((c) => [c.id, c.state])).toEqual([["t:steady", "running"], ["t:workers", "running"]]);
    expect((await rt.supervisor("t:workers").children()).map((c) => [c.id, c.state, c.restarts])).toEqual([["t:w1", "running", 0], ["t:w2", "running", 0]]);
    expect(() => rt.supervisor("t:idle_sup")).toThrow(/no supervisor t:idle_sup has been started/);
    // A lone auto_start service runs under an implicit supervisor of its own ID; transient + normal exit → stays down.
    await until(async () => (await rt.supervisor("t:lone").children())[0]!.state === "stopped");
    const w1 = (await rt.supervisor("t:workers").children())[0]!.pid!;
    rt.process.terminate(w1);
    await until(async () => (await rt.supervisor("t:workers").children()).every((c) => c.state === "running" && c.restarts === 1));
    expect(events.some((e) => e.type === "child.exited" && e.child === "t:w2" && e.outcome === "planned")).toBe(true);
    expect((await rt.supervisor("t:root").children())[1]!.restarts).toBe(0);
  });

  it("autoStart: false starts nothing", async () => {
    const { runtime: rt } = await open(`${SUP_YAML}${TREE}`, { autoStart: false });
    expect(runtimeInternals(rt).supervision.running()).toEqual([]);
    const root = rt.startSupervisor({ id: "code_root", children: ["t:workers", sleeper("extra")] });
    expect((await root.children()).map((c) => c.id)).toEqual(["t:workers", "extra"]);
    expect((await rt.supervisor("t:workers").children())).toHaveLength(2);
  });
});

describe("startSupervisor", () => {
  it("validates the whole spec up front and names every problem", async () => {
    const { runtime: rt } = await open();
    expect(() => rt.startSupervisor({ id: "bad", children: [sleeper("a"), sleeper("a"), { id: "b", process: "t:nope", host: "t:hosts" }, { id: "c", process: "t:behave", host: "t:none" }] }))
      .toThrow(SupervisorSpecError);
    try {
      rt.startSupervisor({ id: "bad", children: [sleeper("a"), sleeper("a"), { id: "b", process: "t:nope", host: "t:hosts" }, { id: "c", process: "t:behave", host: "t:none" }] });
    } catch (e) {
      expect((e as SupervisorSpecError).problems).toEqual([
        "supervisor bad: children[1] a is listed twice; child ids must be unique",
        "supervisor bad: children[2] (b): process t:nope: no such entry in the registry",
        "supervisor bad: children[3] (c): host t:none: no such process.host",
      ]);
    }
    expect(rt.processes()).toEqual([]);
  });

  it("refuses a second supervisor with a running ID", async () => {
    const { runtime: rt } = await open();
    rt.startSupervisor({ id: "dup", children: [] });
    expect(() => rt.startSupervisor({ id: "dup", children: [] })).toThrow(/already running/);
  });
});

describe("one_for_all across a WASM child and a TS child", () => {
  /** A bound on waiting for guests to start on a loaded machine, not a speed claim. */
  const WAIT = 30_000;

  it("the TS child crashes: the WASM child is stopped and both come back with new pids", async () => {
    const { runtime: rt, events } = await open();
    const sup = rt.startSupervisor({ id: "mixed", strategy: "one_for_all", intensity: 5, children: [sleeper("wasm"), tsCrasher("ts")] });
    const [wasm0, ts0] = (await pids(rt, "mixed")) as string[];
    await rt.process.monitor(wasm0!);
    await rt.process.monitor(ts0!);
    expect(await rt.process.send(ts0!, "crash")).toBe(true);
    expect(await rt.process.receive(WAIT)).toEqual({ type: "EXIT", from: ts0, error: { kind: "error", message: "asked to crash" } });
    expect(await rt.process.receive(WAIT)).toEqual({ type: "EXIT", from: wasm0, ...wasmKit.cancelled });
    await until(async () => (await sup.children()).every((c) => c.state === "running" && c.restarts === 1), WAIT, "both restarted");
    const [wasm1, ts1] = await pids(rt, "mixed");
    expect([wasm1, ts1]).not.toContain(wasm0);
    expect([wasm1, ts1]).not.toContain(ts0);
    expect(rt.processes().map((p) => [p.pid, p.kind])).toEqual([[sup.pid, "supervisor"], [wasm1, "wasm"], [ts1, "actor"]]);
    expect(exits(events).map((e) => [e.child, e.outcome])).toEqual([["ts", "restart"], ["wasm", "planned"]]);
    expect(sup.state).toBe("running");
  });

  it("the WASM child traps: the TS child is stopped and both come back with new pids", async () => {
    // behave(1) traps in every incarnation: the first trap restarts both, the second is past intensity 1
    const { runtime: rt, events } = await open();
    const sup = rt.startSupervisor({ id: "mixed", strategy: "one_for_all", intensity: 1, period: 60_000, children: [tsSleeper("ts"), behave("wasm", 1)] });
    expect(await sup.done).toEqual({ error: { kind: "limit", message: expect.stringMatching(/^mixed: more than 1 restart within 60000 ms; last: wasm trap/) } });
    const started = events.flatMap((e) => (e.type === "child.started" ? [{ child: e.child, pid: e.pid, restarts: e.restarts, previousPid: e.previousPid }] : []));
    expect(started).toEqual([
      { child: "ts", pid: expect.any(String), restarts: 0, previousPid: null },
      { child: "wasm", pid: expect.any(String), restarts: 0, previousPid: null },
      { child: "ts", pid: expect.any(String), restarts: 1, previousPid: started[0]!.pid },
      { child: "wasm", pid: expect.any(String), restarts: 1, previousPid: started[1]!.pid },
    ]);
    expect(new Set(started.map((s) => s.pid)).size).toBe(4);
    expect(exits(events).map((e) => [e.child, e.outcome, e.result])).toEqual([
      ["wasm", "restart", { error: expect.objectContaining({ kind: "trap" }) }],
      ["ts", "planned", tsKit.cancelled],
      ["wasm", "give-up", { error: expect.objectContaining({ kind: "trap" }) }],
      ["ts", "shutdown", tsKit.cancelled],
    ]);
    expect(rt.processes()).toEqual([]);
  });
});
