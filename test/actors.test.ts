// The open actor core (SPEC 4, 4.1, 4.2, 4.4): TypeScript and XState logic as
// processes, selective receive, bounded mailboxes, the async process API.

import { describe, expect, it } from "vitest";
import { assign, createMachine, fromCallback, fromPromise, fromTransition, setup } from "xstate";
import { MailboxFullError, ProcessError, ProcessExitError, fromProcess, processOf, type MailboxEvent } from "../src/index.ts";
import { useRuntimes } from "./helpers/project.ts";

const open = useRuntimes("actors");

const YAML = `
namespace: app
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, limits: { max_mailbox: 3 } }
  - { name: compute, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
`;
/** With a named actor whose logic the test gives in Runtime.open({ actors }). */
const NAMED = `${YAML}  - { name: counter, kind: process.actor }
`;
const BIN = { "wasm/compute.wasm": "core/compute.wasm" };

const counterMachine = setup({
  types: { context: {} as { n: number; from: string | null }, events: {} as { type: "inc"; payload: number; from: string } | { type: "stop" } },
}).createMachine({
  context: { n: 0, from: null },
  initial: "counting",
  states: {
    counting: {
      on: {
        inc: { actions: assign({ n: ({ context, event }) => context.n + event.payload, from: ({ event }) => event.from }) },
        stop: "done",
      },
    },
    done: { type: "final" },
  },
  output: ({ context }) => context.n,
});

const isMsg = (topic: string) => (e: MailboxEvent) => e.type === "MESSAGE" && e.topic === topic;

describe("TypeScript actors", () => {
  it("a machine gets messages as events, its final state's output is the EXIT value, and it is listed as an actor", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const pid = await rt.spawnActor(counterMachine, { monitor: true });
    expect(pid).toMatch(/^\{app:hosts\|[0-9A-Za-z]+\}$/);
    expect(rt.processes()).toEqual([expect.objectContaining({ pid, entry: null, host: "app:hosts", kind: "actor", state: "suspended", thread: 0 })]);
    expect(await rt.process.send(pid, "inc", 2)).toBe(true);
    expect(await rt.process.send(pid, "inc", 5)).toBe(true);
    expect(await rt.process.send(pid, "stop")).toBe(true);
    expect(await rt.process.receive(1000)).toEqual({ type: "EXIT", from: pid, value: 7 });
    expect(rt.processes()).toEqual([]);
    expect(await rt.process.send(pid, "inc", 1)).toBe(false); // gone: nothing delivered
  });

  it("fromProcess: receives, replies, calls a WASM process, and returns its EXIT value", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const worker = fromProcess(async ({ self, input, receive, send, exec }) => {
      const ping = await receive({ match: isMsg("ping"), timeout: 30_000 });
      if (!ping || ping.type !== "MESSAGE") return "no ping";
      const product = await exec("app:compute", "app:hosts", (input as { a: number }).a, ping.payload as number);
      await send(ping.from, "pong", { self, product });
      return "done";
    });
    const pid = await rt.spawnActor(worker, { monitor: true, input: { a: 6 } });
    await rt.process.send(pid, "ping", 7);
    // the first spawn of compute.wasm compiles and instruments it: generous timeouts
    expect(await rt.process.receive({ match: isMsg("pong"), timeout: 30_000 })).toMatchObject({ from: pid, payload: { self: pid, product: { value: 42 } } });
    expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: pid, value: "done" });
  });

  it("any thrown value ends the process with kind error, from a process function, a machine action or a promise", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const throwing = [
      fromProcess(async () => {
        throw new TypeError("bad input");
      }),
      createMachine({ on: { go: { actions: () => { throw "a plain string"; } } } }),
      fromPromise(async () => Promise.reject({ code: 7 })),
    ];
    const pids = [];
    for (const logic of throwing) pids.push(await rt.spawnActor(logic, { monitor: true }));
    await rt.process.send(pids[1]!, "go");
    const exits = new Map<string, unknown>();
    for (let i = 0; i < 3; i++) {
      const ev = await rt.process.receive(2000);
      if (ev?.type === "EXIT") exits.set(ev.from, "error" in ev ? ev.error : ev.value);
    }
    expect(exits.get(pids[0]!)).toEqual({ kind: "error", message: "bad input" });
    expect(exits.get(pids[1]!)).toEqual({ kind: "error", message: "a plain string" });
    expect(exits.get(pids[2]!)).toEqual({ kind: "error", message: '{"code":7}' });
  });

  it("callback, transition and promise logic are processes too", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const echo = fromCallback<{ type: string; from?: string; payload?: unknown }>(({ receive, self }) => {
      receive((e) => {
        if (e.type === "hello" && e.from) void processOf(self).send(e.from, "hello.back", e.payload);
      });
    });
    const sum = fromTransition((n: number, e: { type: string; payload?: number }) => (e.type === "add" ? n + (e.payload ?? 0) : n), 0);
    const answer = fromPromise(async () => 42);
    const e = await rt.spawnActor(echo);
    const s = await rt.spawnActor(sum);
    const a = await rt.spawnActor(answer, { monitor: true });
    await rt.process.send(e, "hello", "there");
    expect(await rt.process.receive({ match: isMsg("hello.back"), timeout: 1000 })).toMatchObject({ from: e, payload: "there" });
    expect(await rt.process.receive({ match: (ev) => ev.type === "EXIT", timeout: 1000 })).toEqual({ type: "EXIT", from: a, value: 42 });
    await rt.process.send(s, "add", 3);
    expect(rt.processes().map((p) => p.pid).sort()).toEqual([e, s].sort());
  });

  it("a named process.actor entry is spawned by ID with input { args }", async () => {
    const seen: unknown[] = [];
    const logic = fromProcess(async ({ input }) => {
      seen.push(input);
      return (input as { args: number[] }).args.reduce((x, y) => x + y, 0);
    });
    const { runtime: rt } = await open(NAMED, BIN, { actors: { "app:counter": logic } });
    const pid = await rt.process.spawnMonitored("app:counter", "app:hosts", 1, 2, 3);
    expect(await rt.process.receive(1000)).toEqual({ type: "EXIT", from: pid, value: 6 });
    expect(seen).toEqual([{ args: [1, 2, 3] }]);
    expect(rt.processes()).toEqual([]);
  });

  it("a call made after the process ended rejects with ProcessExitError carrying its exit kind", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    let api: ReturnType<typeof processOf> | undefined;
    const pid = await rt.spawnActor(
      fromProcess(async ({ self, receive }) => {
        api = undefined;
        await receive(); // until terminated
        return self;
      }),
      { monitor: true },
    );
    const grab = setup({}).createMachine({ entry: ({ self }) => void (api = processOf(self)) });
    const other = await rt.spawnActor(grab);
    await rt.process.terminate(other);
    await expect(api!.send(pid, "x")).rejects.toBeInstanceOf(ProcessExitError);
    await expect(api!.send(pid, "x")).rejects.toMatchObject({ kind: "killed" });
    await rt.process.terminate(pid);
    expect(await rt.process.receive(1000)).toMatchObject({ type: "EXIT", from: pid, error: { kind: "killed" } });
  });

  it("spawnActor refuses what is not logic, and a host that does not exist", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    await expect(rt.spawnActor({} as never)).rejects.toThrow(TypeError);
    await expect(rt.spawnActor(counterMachine, { host: "app:nope" })).rejects.toThrow(/no process.host app:nope/);
  });
});

describe("receive", () => {
  it("selective: takes the first match and leaves the others queued in order", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const me = rt.process;
    const other = rt.newProcess();
    for (const [t, p] of [["a", 1], ["b", 2], ["a", 3], ["c", 4]] as const) await other.send(me.pid, t, p);
    expect(await me.receive({ match: isMsg("c") })).toMatchObject({ topic: "c", payload: 4 });
    expect(await me.receive({ match: isMsg("b") })).toMatchObject({ topic: "b", payload: 2 });
    expect(await me.receive(0)).toMatchObject({ topic: "a", payload: 1 });
    expect(await me.receive(0)).toMatchObject({ topic: "a", payload: 3 });
    expect(await me.receive(0)).toBeNull();
    // a waiting selective receive skips what it does not want; that stays for later
    const waiting = me.receive({ match: isMsg("z"), timeout: 2000 });
    await other.send(me.pid, "y", 1);
    await other.send(me.pid, "z", 2);
    expect(await waiting).toMatchObject({ topic: "z", payload: 2 });
    expect(await me.receive(0)).toMatchObject({ topic: "y", payload: 1 });
    other.close();
  });

  it("null only on a timeout; a dead receiver rejects with ProcessExitError; an aborted signal rejects with its reason", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const p = rt.newProcess();
    expect(await p.receive(20)).toBeNull();
    const pending = p.receive(5000);
    await rt.process.terminate(p.pid);
    const err = await pending.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessExitError);
    expect(err).toMatchObject({ kind: "killed" });
    await expect(p.receive(10)).rejects.toBeInstanceOf(ProcessExitError);
    const ac = new AbortController();
    const q = rt.newProcess();
    const aborted = q.receive({ signal: ac.signal });
    ac.abort(new Error("stop waiting"));
    await expect(aborted).rejects.toThrow("stop waiting");
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) await expect(q.receive(bad)).rejects.toThrow(RangeError);
  });
});

describe("send and mailbox bounds", () => {
  it("reserved topics are a TypeError; a full mailbox rejects with MailboxFullError and enqueues nothing; system events still arrive", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const sink = await rt.spawnActor(fromProcess(async ({ receive }) => {
      await new Promise((r) => setTimeout(r, 200)); // not receiving yet: the mailbox fills
      const got: unknown[] = [];
      for (let ev = await receive(0); ev; ev = await receive(0)) got.push(ev.type === "MESSAGE" ? ev.payload : ev.type);
      return got;
    }), { monitor: true });
    for (const topic of ["EXIT", "LINK_DOWN", "CANCEL", "MESSAGE", "*", "xstate.init", ""]) {
      await expect(rt.process.send(sink, topic, 1)).rejects.toThrow(TypeError);
    }
    for (let i = 1; i <= 3; i++) expect(await rt.process.send(sink, "m", i)).toBe(true);
    const full = await rt.process.send(sink, "m", 4).then(() => null, (e: unknown) => e);
    expect(full).toBeInstanceOf(MailboxFullError);
    expect(full).toMatchObject({ pid: sink });
    // system events are never refused: a CANCEL reaches the full mailbox and is taken after the messages
    await rt.process.cancel(sink, "enough", 5000);
    expect(await rt.process.receive({ match: (e) => e.type === "EXIT" && e.from === sink, timeout: 2000 })).toMatchObject({ value: [1, 2, 3, "CANCEL"] });
  });
});

describe("topic checks", () => {
  it("a topic found good before does not let a reserved or empty one through (send keeps its last good topics)", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const q = rt.newProcess();
    for (const bad of ["EXIT", "xstate.init", "", 7]) {
      expect(await rt.process.send(q.pid, "ok", 1)).toBe(true);
      expect(await rt.process.send(q.pid, "ok2", 2)).toBe(true);
      await expect(rt.process.send(q.pid, bad as string, 3)).rejects.toThrow(TypeError);
    }
    const got: unknown[] = [];
    for (let ev = await q.receive(0); ev; ev = await q.receive(0)) got.push(ev.type === "MESSAGE" ? ev.topic : ev.type);
    expect(got).toEqual(Array(4).fill(["ok", "ok2"]).flat());
  });
});

describe("cancel", () => {
  it("a machine that handles CANCEL ends with its own result; one that does not is killed at the timeout", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const polite = createMachine({
      initial: "up",
      states: { up: { on: { CANCEL: "down" } }, down: { type: "final" } },
      output: () => "cleaned up",
    });
    const stubborn = createMachine({ initial: "up", states: { up: {} } });
    const a = await rt.spawnActor(polite, { monitor: true });
    const b = await rt.spawnActor(stubborn, { monitor: true });
    await rt.process.cancel(a, "shutdown", 1000);
    expect(await rt.process.receive(1000)).toEqual({ type: "EXIT", from: a, value: "cleaned up" });
    await rt.process.cancel(b, { why: "shutdown" }, 50);
    expect(await rt.process.receive(2000)).toMatchObject({ type: "EXIT", from: b, error: { kind: "killed" } });
  });

  it("a process function gets CANCEL from receive and may finish; a circular reason is carried safely; bad timeouts are a RangeError", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const fn = fromProcess(async ({ receive }) => {
      const ev = await receive();
      return ev?.type === "CANCEL" ? `cancelled by ${ev.from === rt.process.pid ? "runtime" : ev.from}` : "other";
    });
    const pid = await rt.spawnActor(fn, { monitor: true });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await rt.process.cancel(pid, circular, 1000);
    expect(await rt.process.receive(1000)).toEqual({ type: "EXIT", from: pid, value: "cancelled by runtime" });
    await expect(rt.process.cancel(pid, "x", Number.NaN)).rejects.toThrow(RangeError);
  });

  it("a WASM guest that cannot receive ends cancelled (with the reason as message) at its host wait; the kill timer dies with it", async () => {
    const { runtime: rt } = await open(`${YAML}  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }\n`, { ...BIN, "wasm/sleeper.wasm": "c/sleeper.core.wasm" });
    const p = await rt.process.spawnMonitored("app:sleeper", "app:hosts", "60000");
    for (let i = 0; i < 600 && rt.processes()[0]?.state !== "suspended"; i++) await new Promise((r) => setTimeout(r, 50));
    await rt.process.cancel(p, { reason: "shutdown" }, 100);
    expect(await rt.process.receive(5000)).toEqual({ type: "EXIT", from: p, error: { kind: "cancelled", message: '{"reason":"shutdown"}' } });
    expect(await rt.process.receive(300)).toBeNull(); // no second EXIT from the kill timer
  });
});

describe("links and monitors through the async API", () => {
  it("link to a pid that is gone rejects with kind noproc; a linked actor's failure takes a non-trapping actor down", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    await expect(rt.process.link("{app:hosts|gone}")).rejects.toMatchObject({ kind: "noproc" });
    await expect(rt.process.link("{app:hosts|gone}")).rejects.toBeInstanceOf(ProcessError);
    const victim = await rt.spawnActor(createMachine({}), { monitor: true });
    const failing = fromProcess(async ({ link, receive }) => {
      await link(victim);
      await receive({ match: isMsg("go") });
      throw new Error("crash");
    });
    const f = await rt.spawnActor(failing, { monitor: true });
    await new Promise((r) => setTimeout(r, 20));
    await rt.process.send(f, "go");
    const exits = [await rt.process.receive(1000), await rt.process.receive(1000)];
    expect(exits).toContainEqual({ type: "EXIT", from: f, error: { kind: "error", message: "crash" } });
    expect(exits).toContainEqual({ type: "EXIT", from: victim, error: expect.objectContaining({ kind: "link" }) });
  });

  it("a process function whose first await is receive is suspended from the start (its machine leaves init first)", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const pid = await rt.spawnActor(fromProcess(async ({ receive }) => receive()));
    expect(rt.processes().find((p) => p.pid === pid)?.state).toBe("suspended");
    await rt.process.send(pid, "go", 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(rt.processes().find((p) => p.pid === pid)).toBeUndefined();
  });

  it("onExit gets every process's EXIT once, not the callers' own handles", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const seen: string[] = [];
    const off = rt.onExit((e) => seen.push(`${e.from}:${"error" in e ? e.error.kind : String(e.value)}`));
    const a = await rt.spawnActor(fromPromise(async () => 1));
    const w = await rt.process.spawn("app:compute", "app:hosts", 2, 3);
    const h = rt.newProcess();
    h.close();
    await new Promise((r) => setTimeout(r, 300));
    off();
    expect(seen.sort()).toEqual([`${a}:1`, `${w}:6`].sort());
  });
});
