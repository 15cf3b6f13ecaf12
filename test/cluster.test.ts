// Nodes over NATS (SPEC 9), against a real nats-server on 127.0.0.1 with nodes in
// separate Node processes: remote spawn of the seed's compute_worker, ordered messages
// across nodes, links and monitors across nodes, a killed node's monitors getting one
// `noconnection` EXIT each, NATS going away and coming back, deny by default, tokens.
// Order and counts are asserted, not timings.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fromProcess, ProcessError, Runtime, type ExitEvent } from "../src/index.ts";
import { exitOf, message, PROBE_BINARIES, PROBE_YAML, upTo } from "./helpers/guests.ts";
import { startNats, startNode, type NatsServer, type NodeProcess } from "./helpers/nats.ts";
import { captureStdio, makeProject } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";
import { RuntimeObserver, type Observation } from "../src/observe/model.ts";
import { OBSERVER_PAGE } from "../src/observe/page.ts";

// short enough for the node-down tests, long enough that a loaded CI machine does not miss heartbeats
const FAST = { heartbeat: 200, downAfter: 2000 };
const HOST = "probe:hosts";
// the probe's entries, and one whose pin does not match its binary (a spawn there must end with an EXIT of kind spawn)
const project = makeProject(`${PROBE_YAML}  - { name: badhash, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "sha256:${"0".repeat(64)}", method: compute }\n`, PROBE_BINARIES);

let nats: NatsServer;
const nodes: NodeProcess[] = [];
const runtimes: Runtime[] = [];

beforeAll(async () => {
  nats = await startNats();
  // Each binary is instrumented once here, into the cache the nodes share: a node that
  // instruments on its first spawn holds its thread meanwhile, and on a loaded machine its
  // heartbeats could stop long enough (downAfter) for the others to call it down.
  const warm = await Runtime.open({ root: project.root, stdio: captureStdio().stdio });
  try {
    expect(await warm.process.exec("probe:compute", HOST, 6, 7)).toEqual({ value: 42 });
    for (const id of ["probe:collect", "probe:echo", "probe:echo_component"]) {
      const pid = await warm.process.spawnMonitored(id, HOST, 1);
      await warm.process.cancel(pid, "warmed");
      await exitOf(warm.process, pid);
    }
  } finally {
    await warm.close(200);
  }
}, 120_000);
afterAll(async () => {
  await nats?.stop();
});
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.close(200);
  for (const n of nodes.splice(0)) await n.stop().catch(() => {});
});

async function node(name: string, serve: string[] = ["probe:*"], server = nats): Promise<NodeProcess> {
  const n = await startNode({ root: project.root, nats: server.url, node: name, serve, ...FAST });
  nodes.push(n);
  return n;
}

/** This test process as node `name`. */
async function here(name: string, extra: Partial<Parameters<typeof Runtime.open>[0] & object> = {}, server = nats): Promise<Runtime> {
  const rt = await Runtime.open({ root: project.root, stdio: captureStdio().stdio, cluster: { nats: server.url, node: name, ...FAST }, ...extra });
  runtimes.push(rt);
  return rt;
}

const upAll = (rt: Runtime, names: string[]) =>
  until(() => names.every((n) => rt.nodes().some((i) => i.name === n && i.state === "up")), 10_000, `nodes ${names.join(", ")} up`);

describe("joining", () => {
  it("nodes list each other; a name already taken is refused; options are checked", async () => {
    await node("b");
    const rt = await here("a");
    await upAll(rt, ["a", "b"]);
    expect(rt.nodes().map((n) => n.name)).toEqual(["a", "b"]);
    expect(rt.nodes().every((n) => typeof n.since === "number" && n.since > 0)).toBe(true);
    await expect(Runtime.open({ root: project.root, cluster: { nats: nats.url, node: "b" } })).rejects.toThrow(/node name b is already taken/);
    await expect(Runtime.open({ root: project.root, cluster: { nats: nats.url, node: "no good" } })).rejects.toThrow(/cluster\.node must be a name/);
    await expect(Runtime.open({ root: project.root, cluster: { nats: nats.url, node: "x", heartbeat: 500, downAfter: 100 } })).rejects.toThrow(/downAfter .* must be longer than cluster\.heartbeat/);
  });
});

describe("remote processes", () => {
  it("spawnMonitored of compute(6, 7) on another node → EXIT 42 here; the pid names its node", async () => {
    await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const pid = await rt.process.spawnMonitored("probe:compute", `b@${HOST}`, 6, 7);
    expect(pid).toMatch(/^\{b@probe:hosts\|[0-9A-Za-z]{12}\}$/);
    expect(await exitOf(rt.process, pid)).toEqual({ value: 42 });
    expect(rt.process.self).toMatch(/^\{a@runtime\|/);
  });

  it("deny by default: an entry the node does not serve is refused; an unknown entry is refused; a bad hash is an EXIT of kind spawn", async () => {
    await node("b", ["probe:compute", "probe:nothing", "probe:badhash"]);
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const bad = await rt.process.spawnMonitored("probe:badhash", `b@${HOST}`, 6, 7);
    expect(await exitOf(rt.process, bad)).toMatchObject({ error: { kind: "spawn", message: expect.stringMatching(/hash mismatch/) } });
    await expect(rt.process.spawn("probe:echo", `b@${HOST}`)).rejects.toThrow(/node b does not serve probe:echo/);
    await expect(rt.process.spawn("probe:nothing", `b@${HOST}`)).rejects.toThrow(/no entry probe:nothing/);
    await expect(rt.process.spawn("probe:compute", `z@${HOST}`, 1, 1)).rejects.toMatchObject({ kind: "spawn", message: expect.stringMatching(/node z is not up/) });
  });

  it("2 000 messages between this node and a guest on another keep their order both ways", async () => {
    await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const echo = await rt.process.spawnMonitored("probe:echo", `b@${HOST}`);
    const sent = await Promise.all(upTo(2000).map((i) => rt.process.send(echo, "n", i)));
    expect(sent.every((s) => s === true)).toBe(true);
    const got: unknown[] = [];
    for (const _ of upTo(2000)) got.push(((await rt.process.receive({ match: message("echo", echo), timeout: 30_000 })) as { payload: unknown }).payload);
    expect(got).toEqual(upTo(2000));
    await rt.process.cancel(echo, "done");
    expect(await exitOf(rt.process, echo)).toEqual({ value: { echoed: 2000, reason: "done" } });
  });

  it("guests on two other nodes: 2 000 messages from one to the other arrive in order", async () => {
    await Promise.all([node("b"), node("c")]);
    const rt = await here("a");
    await upAll(rt, ["b", "c"]);
    const collector = await rt.process.spawnMonitored("probe:collect", `b@${HOST}`, 2000);
    const sender = await rt.process.spawnMonitored("probe:sender", `c@${HOST}`, 2000);
    await rt.process.send(sender, "to", collector);
    expect(await exitOf(rt.process, sender, 60_000)).toEqual({ value: 2000 });
    expect(await exitOf(rt.process, collector, 60_000)).toEqual({ value: 2000 });
  });

  it("a payload that cannot cross is a TypeError at send; a send to an ended remote pid is false", async () => {
    await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const pid = await rt.process.spawnMonitored("probe:compute", `b@${HOST}`, 1, 1);
    await exitOf(rt.process, pid);
    await expect(rt.process.send(pid, "x", { f: () => 1 })).rejects.toBeInstanceOf(TypeError);
    expect(await rt.process.send(pid, "x", 1)).toBe(false);
  });

  it("a remote link failure takes down a TS actor here; monitoring an ended remote pid gives noproc", async () => {
    await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const actor = await rt.spawnActor(fromProcess(async ({ spawnLinked, receive }) => {
      await spawnLinked("probe:trap", `b@${HOST}`);
      await receive();
    }), { host: HOST, monitor: true });
    expect(await exitOf(rt.process, actor)).toMatchObject({ error: { kind: "link", message: expect.stringMatching(/linked process \{b@probe:hosts\|.*failed \(trap\)/) } });
    const done = await rt.process.spawnMonitored("probe:compute", `b@${HOST}`, 2, 2);
    await exitOf(rt.process, done);
    await rt.process.monitor(done);
    expect(await exitOf(rt.process, done)).toMatchObject({ error: { kind: "noproc" } });
  });

  it("cancel and terminate reach a process on another node", async () => {
    await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const waiter = await rt.process.spawnMonitored("probe:wait_event", `b@${HOST}`, -1);
    await rt.process.cancel(waiter, "stop");
    expect(await exitOf(rt.process, waiter)).toEqual({ value: 4 });
    const echo = await rt.process.spawnMonitored("probe:echo", `b@${HOST}`);
    await rt.process.terminate(echo);
    expect(await exitOf(rt.process, echo)).toMatchObject({ error: { kind: "killed", message: expect.stringContaining("terminated by {a@runtime|") } });
  });
});

describe("node down", () => {
  it("killing a node's OS process gives each monitor exactly one noconnection EXIT, and linked processes LINK_DOWN", async () => {
    const b = await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const pids: string[] = [];
    for (const _ of upTo(20)) pids.push(await rt.process.spawnMonitored("probe:echo", `b@${HOST}`));
    const trapper = await rt.spawnActor(fromProcess(async ({ link, setOptions, receive, send }) => {
      await setOptions({ trapLinks: true });
      await link(pids[0]!);
      await send(rt.process.self, "linked", null);
      return receive({ match: (e) => e.type === "LINK_DOWN" });
    }), { host: HOST, monitor: true });
    await rt.process.receive({ match: message("linked"), timeout: 10_000 });
    const events: ExitEvent[] = [];
    await b.kill();
    await until(async () => {
      const e = await rt.process.receive({ match: (ev) => ev.type === "EXIT" && pids.includes(ev.from), timeout: 50 });
      if (e) events.push(e as ExitEvent);
      return events.length === 20;
    }, 20_000, "20 noconnection EXITs");
    expect(events.every((e) => "error" in e && e.error.kind === "noconnection" && /node b is down/.test(e.error.message))).toBe(true);
    expect(new Set(events.map((e) => e.from)).size).toBe(20);
    expect(await exitOf(rt.process, trapper)).toMatchObject({ value: { type: "LINK_DOWN", from: pids[0], error: { kind: "noconnection" } } });
    expect(rt.nodes().find((n) => n.name === "b")?.state).toBe("down");
    // once each: nothing more comes for them
    expect(await rt.process.receive({ match: (e) => e.type === "EXIT" && pids.includes(e.from), timeout: 1500 })).toBeNull();
  });

  it("NATS stops and starts again: monitors fire once, and spawns work after reconnecting", async () => {
    const own = await startNats();
    try {
      await node("b", ["probe:*"], own);
      const rt = await here("a", {}, own);
      await upAll(rt, ["b"]);
      const echo = await rt.process.spawnMonitored("probe:echo", `b@${HOST}`);
      await own.stop();
      const ev = await rt.process.receive({ match: (e) => e.type === "EXIT" && e.from === echo, timeout: 20_000 });
      expect(ev).toMatchObject({ error: { kind: "noconnection" } });
      await own.start();
      await until(() => rt.nodes().find((n) => n.name === "b")?.state === "up", 30_000, "b up again");
      const pid = await rt.process.spawnMonitored("probe:compute", `b@${HOST}`, 6, 7);
      expect(await exitOf(rt.process, pid)).toEqual({ value: 42 });
      expect(await rt.process.receive({ match: (e) => e.type === "EXIT" && e.from === echo, timeout: 1000 })).toBeNull();
    } finally {
      for (const rt of runtimes.splice(0)) await rt.close(200);
      for (const n of nodes.splice(0)) await n.stop().catch(() => {});
      await own.stop();
    }
  });
});

describe("supervision across nodes", () => {
  it("a supervisor here runs a child on another node; killed with its node, a placement: any child restarts on a node that is up (here)", async () => {
    const b = await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const sup = rt.startSupervisor({
      id: "spread",
      intensity: 20,
      children: [{ id: "echo", process: "probe:echo", host: `b@${HOST}`, placement: "any", restart: { policy: "permanent", initialDelay: 0 } }],
    });
    const first = await until(async () => {
      const c = (await sup.whichChildren())[0];
      return c?.state === "running" ? c.pid : undefined;
    }, 10_000, "the child to run on b");
    expect(first).toMatch(/^\{b@probe:hosts\|/);
    expect(await rt.process.send(first, "hi", 1)).toBe(true);
    expect(await rt.process.receive({ match: message("echo", first), timeout: 10_000 })).toMatchObject({ payload: 1 });
    await b.kill();
    const moved = await until(async () => {
      const c = (await sup.whichChildren())[0];
      return c?.state === "running" && c.pid !== first ? c.pid : undefined;
    }, 20_000, "the child to restart on a");
    expect(moved).toMatch(/^\{a@probe:hosts\|/);
    expect((await sup.whichChildren())[0]!.restarts).toBe(1);
    await until(() => rt.processes().find((p) => p.pid === moved)?.state === "suspended", 10_000, "the moved child to wait in receive");
    expect(await rt.process.send(moved, "hi", 3)).toBe(true);
    expect(await rt.process.receive({ match: message("echo", moved), timeout: 10_000 })).toMatchObject({ payload: 3 });
  });

  it("placement: local (the default) restarts the child on its own node once that node is back", async () => {
    const b = await node("b");
    const rt = await here("a");
    await upAll(rt, ["b"]);
    const sup = rt.startSupervisor({
      id: "stay",
      intensity: 1000,
      period: 60_000,
      children: [{ id: "echo", process: "probe:echo", host: `b@${HOST}`, restart: { policy: "permanent", initialDelay: 100, maxDelay: 200 } }],
    });
    const first = await until(async () => {
      const c = (await sup.whichChildren())[0];
      return c?.state === "running" ? c.pid : undefined;
    }, 10_000, "the child to run on b");
    await b.kill();
    await until(() => rt.nodes().find((n) => n.name === "b")?.state === "down", 10_000, "b down");
    await node("b");
    const again = await until(async () => {
      const c = (await sup.whichChildren())[0];
      return c?.state === "running" && c.pid !== first && rt.nodes().find((n) => n.name === "b")?.state === "up" ? c.pid : undefined;
    }, 30_000, "the child to run on b again");
    expect(again).toMatch(/^\{b@probe:hosts\|/);
    expect(await rt.process.send(again, "hi", 2)).toBe(true);
    expect(await rt.process.receive({ match: message("echo", again), timeout: 10_000 })).toMatchObject({ payload: 2 });
  });
});

describe("auth", () => {
  it("a token-protected server: the right token joins, a wrong one is a clear error", async () => {
    const guarded = await startNats({ token: "s3cret" });
    try {
      const rt = await Runtime.open({ root: project.root, cluster: { nats: guarded.url, node: "t", auth: { token: "s3cret" }, ...FAST } });
      runtimes.push(rt);
      expect(rt.nodes().map((n) => n.name)).toEqual(["t"]);
      await expect(Runtime.open({ root: project.root, cluster: { nats: guarded.url, node: "u", auth: { token: "wrong" }, ...FAST } })).rejects.toThrow(/cannot connect to NATS/);
    } finally {
      for (const rt of runtimes.splice(0)) await rt.close(200);
      await guarded.stop();
    }
  });
});

/** Runs the page's own script on a stand-in document and renders one observation. */
function renderPage(o: Observation): { nodes: string; nodesHidden: boolean; processes: string } {
  const script = /<script>([\s\S]*)<\/script>/.exec(OBSERVER_PAGE)![1]!;
  const els = new Map<string, { innerHTML: string; hidden: boolean; textContent: string; classList: { add(): void; remove(): void } }>();
  const document = {
    getElementById: (id: string) => {
      if (!els.has(id)) els.set(id, { innerHTML: "", hidden: true, textContent: "", classList: { add() {}, remove() {} } });
      return els.get(id)!;
    },
  };
  class EventSource {}
  const render = new Function("document", "EventSource", `${script}\nreturn render;`)(document, EventSource) as (o: Observation) => void;
  render(o);
  return { nodes: els.get("nodes")!.innerHTML, nodesHidden: els.get("nodes-section")!.hidden, processes: els.get("processes")!.innerHTML };
}

describe("observer", () => {
  it("the model lists the nodes with state and since, and each process's node; the page renders both", async () => {
    const b = await node("b");
    const rt = await here("a");
    const c = await here("c", { cluster: { nats: nats.url, node: "c", serve: ["probe:*"], ...FAST } });
    await upAll(rt, ["a", "b", "c"]);
    const local = await rt.process.spawnMonitored("probe:wait_event", HOST, -1);
    const remote = await rt.process.spawnMonitored("probe:wait_event", `c@${HOST}`, -1);
    const onA = new RuntimeObserver(rt);
    const onC = new RuntimeObserver(c);
    let last: Observation | undefined;
    try {
      const a = onA.snapshot();
      expect(a.nodes.map((n) => [n.name, n.state])).toEqual([["a", "up"], ["b", "up"], ["c", "up"]]);
      expect(a.nodes.every((n) => typeof n.since === "number" && n.since > 0)).toBe(true);
      expect(a.processes.find((p) => p.pid === local)).toMatchObject({ node: "a", entry: "probe:wait_event", host: HOST });
      // a process spawned here by another node is this node's, and the pid says so
      expect(onC.snapshot().processes.find((p) => p.pid === remote)).toMatchObject({ node: "c", entry: "probe:wait_event" });
      await b.kill();
      const down = await until(() => onA.snapshot().nodes.find((n) => n.name === "b" && n.state === "down"), 10_000, "node b down in the model");
      expect(down.since).toBeGreaterThanOrEqual(a.nodes.find((n) => n.name === "b")!.since);
      last = onA.snapshot();
    } finally {
      onA.close();
      onC.close();
    }
    // outside a cluster: no nodes, and a process has none
    const alone = await Runtime.open({ root: project.root, stdio: captureStdio().stdio });
    runtimes.push(alone);
    const mine = await alone.process.spawnMonitored("probe:wait_event", HOST, -1);
    const solo = new RuntimeObserver(alone);
    const o = solo.snapshot();
    solo.close();
    expect(o.nodes).toEqual([]);
    expect(o.processes.find((p) => p.pid === mine)?.node).toBeNull();
    // the page: a Nodes section hidden outside a cluster, a card per node with its state, a node column
    expect(OBSERVER_PAGE).toContain('<section class="wide" id="nodes-section" hidden><h2>Nodes</h2>');
    const clustered = renderPage(last!);
    expect(clustered.nodesHidden).toBe(false);
    expect(clustered.nodes).toContain('data-node="b" data-node-state="down"');
    expect(clustered.nodes).toContain('data-node="a" data-node-state="up"');
    expect(clustered.processes).toContain("<th>node</th>");
    expect(clustered.processes).toContain(`<tr data-pid="${local}"><td class="pid">${local}</td><td>probe:wait_event</td><td data-node="a">a</td>`);
    const single = renderPage(o);
    expect(single.nodesHidden).toBe(true);
    expect(single.processes).not.toContain("<th>node</th>");
  });
});

it("outside a cluster, a node host is a clear spawn error", async () => {
  const rt = await Runtime.open({ root: project.root, stdio: captureStdio().stdio });
  runtimes.push(rt);
  await expect(rt.process.spawn("probe:compute", `b@${HOST}`)).rejects.toBeInstanceOf(ProcessError);
  expect(rt.nodes()).toEqual([]);
});
