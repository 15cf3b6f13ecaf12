// The process API inside a guest (SPEC 7), long-running guests: bounded mailboxes both
// ways, CANCEL delivered into receive (the guest ends with its own result), a C
// component that echoes, a guest service under a YAML supervisor, and 10 000 guests
// parked in receive while the event loop keeps running.

import { describe, expect, it } from "vitest";
import { fromProcess, MailboxFullError, type ExitEvent } from "../src/index.ts";
import { ERR, exitOf, HOST, KIND, message, PROBE_BINARIES, PROBE_YAML, upTo } from "./helpers/guests.ts";
import { useRuntimes } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";

const open = useRuntimes("guest-services");
const probe = async (extraYaml = "") => (await open(PROBE_YAML + extraYaml, PROBE_BINARIES)).runtime;

describe("bounded mailboxes", () => {
  it("a guest's send to a full mailbox returns WIPPY_ERR_MAILBOX_FULL after max_mailbox messages", async () => {
    const rt = await probe();
    const filler = await rt.process.spawnMonitored("probe:fill", HOST);
    // a TS actor on the host whose max_mailbox is 3: it asks the guest to fill it, then waits for CANCEL only
    const sink = fromProcess<string, string>(async ({ input, send, receive }) => {
      await send(input, "go");
      await receive({ match: (e) => e.type === "CANCEL" });
      return "cancelled";
    });
    const sinkPid = await rt.spawnActor(sink, { host: "probe:small", input: filler, monitor: true });
    expect(await exitOf(rt.process, filler)).toEqual({ value: { sent: 3, rc: ERR.MAILBOX_FULL } });
    await rt.process.cancel(sinkPid, "done");
    expect(await exitOf(rt.process, sinkPid)).toEqual({ value: "cancelled" });
  });

  it("TypeScript's send to a guest's full mailbox rejects with MailboxFullError; the guest gets the messages that fit", async () => {
    const rt = await probe();
    // nap sleeps (a WASI wait, not a receive) with max_mailbox 3, then counts what is queued
    const napper = await rt.process.spawnMonitored("probe:nap", HOST, 1000);
    for (const i of upTo(3)) expect(await rt.process.send(napper, "m", i)).toBe(true);
    const full = rt.process.send(napper, "m", 3);
    await expect(full).rejects.toBeInstanceOf(MailboxFullError);
    await expect(full).rejects.toMatchObject({ pid: napper });
    expect(await exitOf(rt.process, napper)).toEqual({ value: 3 });
  });
});

describe("CANCEL into a guest", () => {
  it("an echo service answers messages, and on CANCEL in receive ends with its own result, not kind cancelled", async () => {
    const rt = await probe();
    const echo = await rt.process.spawnMonitored("probe:echo", HOST);
    await rt.process.send(echo, "hi", new Uint8Array([7, 8, 9]));
    await rt.process.send(echo, "hi", { n: 2 });
    const echoes = [];
    for (const _ of upTo(2)) echoes.push(await rt.process.receive({ match: message("echo", echo), timeout: 30_000 }));
    expect(echoes).toMatchObject([{ payload: new Uint8Array([7, 8, 9]) }, { payload: { n: 2 } }]);
    await rt.process.cancel(echo, "enough");
    expect(await exitOf(rt.process, echo)).toEqual({ value: { echoed: 2, reason: "enough" } });
  });

  it("a guest waiting in receive for ever gets CANCEL as an event and returns", async () => {
    const rt = await probe();
    const waiter = await rt.process.spawnMonitored("probe:wait_event", HOST, -1);
    await until(() => rt.processes().find((p) => p.pid === waiter)?.state === "suspended", 30_000, "the guest to wait in receive");
    await rt.process.cancel(waiter, "stop");
    expect(await exitOf(rt.process, waiter)).toEqual({ value: KIND.CANCEL });
  });

  it("a guest holding the API is not interrupted at a WASI wait by CANCEL: it finishes with its own result", async () => {
    const rt = await probe();
    const napper = await rt.process.spawnMonitored("probe:nap", HOST, 500); // nanosleep, then polls its mailbox
    await until(() => rt.processes().find((p) => p.pid === napper)?.state === "suspended", 30_000, "the guest to sleep");
    await rt.process.cancel(napper, "stop", 30_000);
    // a guest without the API would end { kind: "cancelled" } here; this one wakes, finds
    // the CANCEL (not a message) when it polls, and returns the messages it took: none
    expect(await exitOf(rt.process, napper)).toEqual({ value: 0 });
  });
});

describe("a component guest", () => {
  it("the C component echoes bytes and JSON on topic echo and returns the count", async () => {
    const rt = await probe();
    const echo = await rt.process.spawnMonitored("probe:echo_component", HOST, 3);
    const sent = [new Uint8Array([1, 2, 3]), { text: "é", list: [1, null] }, "a string"];
    for (const payload of sent) expect(await rt.process.send(echo, "say", payload)).toBe(true);
    const echoes = [];
    for (const _ of sent) echoes.push(await rt.process.receive({ match: message("echo", echo), timeout: 30_000 }));
    expect(echoes).toMatchObject(sent.map((payload) => ({ type: "MESSAGE", topic: "echo", payload })));
    expect(await exitOf(rt.process, echo)).toEqual({ value: 3 });
  });

  it("CANCEL ends the component's loop; it returns what it answered so far", async () => {
    const rt = await probe();
    const echo = await rt.process.spawnMonitored("probe:echo_component", HOST, 100);
    await rt.process.send(echo, "say", 1);
    expect(await rt.process.receive({ match: message("echo", echo), timeout: 30_000 })).toMatchObject({ payload: 1 });
    await rt.process.cancel(echo, "stop");
    expect(await exitOf(rt.process, echo)).toEqual({ value: 1 });
  });
});

describe("a guest service under a YAML supervisor", () => {
  const TREE = `
  - { name: echo_svc, kind: process.service, process: echo, host: hosts, lifecycle: { stop_timeout: 2s } }
  - { name: root, kind: process.supervisor, strategy: one_for_one, children: [echo_svc], lifecycle: { auto_start: true } }
`;

  it("runs as a service; runtime.close() cancels it and its EXIT carries its own result", async () => {
    const rt = await probe(TREE);
    const exits: ExitEvent[] = [];
    rt.onExit((e) => void exits.push(e));
    const [child] = await rt.supervisor("probe:root").whichChildren();
    expect(child).toMatchObject({ id: "probe:echo_svc", state: "running" });
    const svc = child!.pid!;
    await rt.process.send(svc, "ping", "once");
    expect(await rt.process.receive({ match: message("echo", svc), timeout: 30_000 })).toMatchObject({ payload: "once" });
    await rt.close();
    expect(exits.filter((e) => e.from === svc)).toEqual([{ type: "EXIT", from: svc, value: { echoed: 1, reason: expect.any(String) } }]);
  });
});

describe("10 000 guests parked in receive", () => {
  const N = 10_000;

  it("all wait suspended while a timer keeps ticking; cancelled, each ends with its own result, exactly once", { timeout: 300_000 }, async () => {
    const rt = await probe();
    const pids = new Set<string>();
    for (let i = 0; i < N; i++) pids.add(await rt.process.spawnMonitored("probe:wait_event", HOST, -1));
    expect(pids.size).toBe(N);
    await until(() => rt.processes().filter((p) => p.state === "suspended").length === N, 120_000, `${N} guests suspended in receive`);

    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await until(() => ticks >= 20, 30_000, "20 timer ticks while the guests are parked");
    } finally {
      clearInterval(timer);
    }
    const states = rt.processes().map((p) => p.state);
    expect(states).toHaveLength(N);
    expect(new Set(states)).toEqual(new Set(["suspended"]));

    for (const pid of pids) await rt.process.cancel(pid, "stop");
    const ended = new Map<string, unknown>();
    for (let i = 0; i < N; i++) {
      const e = await rt.process.receive({ match: (ev) => ev.type === "EXIT", timeout: 60_000 });
      if (!e || e.type !== "EXIT") throw new Error(`only ${ended.size} of ${N} EXITs arrived`);
      ended.set(e.from, "error" in e ? e.error : e.value);
    }
    expect(ended.size).toBe(N);
    expect([...ended.keys()].every((pid) => pids.has(pid))).toBe(true);
    expect(new Set(ended.values())).toEqual(new Set([KIND.CANCEL]));
    expect(await rt.process.receive(0)).toBeNull(); // no second EXIT for anyone
    expect(rt.processes()).toEqual([]);
  });
});
