// Managing a running supervisor (SPEC 4.3): OTP's child API with ChildError
// codes, the supervisor's state, supervisors in runtime.processes(), and a
// child actor's XState error event that must not error its supervisor.

import { describe, expect, it } from "vitest";
import { createActor, enqueueActions, fromPromise } from "xstate";
import { ChildError, ProcessError, type Runtime } from "../src/index.ts";
import { workerCount } from "../src/threads/workers.ts";
import { supervisorMachine, type StartChildrenParams } from "../machines/supervisor.ts";
import { normalizeSupervisor, SupervisorSpecError } from "../supervisors/spec.ts";
import { sleeper, until, useSupervised } from "./helpers/supervision.ts";

const open = useSupervised();

/** The rejection of `p`, which must reject. */
async function refusal(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

const later = { initialDelay: 60_000, maxDelay: 60_000 };
/** How long to wait for guests to reach a state on a loaded machine (a bound on waiting, not a speed claim). */
const WAIT = 30_000;

describe("child management", () => {
  it("startChild, terminateChild, restartChild, deleteChild, whichChildren and countChildren on a running tree with a nested supervisor", async () => {
    const { runtime: rt, events } = await open();
    const sup = rt.startSupervisor({ id: "m", intensity: 10, children: [sleeper("a"), sleeper("b")] });
    const d = await sup.startChild(sleeper("d"));
    expect(rt.processes().some((p) => p.pid === d && p.kind === "wasm")).toBe(true);
    const inner = await sup.startChild({ id: "inner", supervisor: { id: "inner", children: [sleeper("deep")] } });
    expect(inner).toBe(rt.supervisor("inner").pid);
    const deep = (await rt.supervisor("inner").whichChildren())[0]!.pid!;
    expect((await sup.whichChildren()).map((c) => [c.id, c.kind, c.state, c.restarts])).toEqual([
      ["a", "worker", "running", 0], ["b", "worker", "running", 0], ["d", "worker", "running", 0], ["inner", "supervisor", "running", 0],
    ]);
    expect(await sup.children()).toEqual(await sup.whichChildren());
    expect(await sup.countChildren()).toEqual({ specs: 4, active: 4, supervisors: 1, workers: 3 });

    // terminateChild: the child is cancelled (once it sleeps: CANCEL reaches a guest at a host wait), keeps its spec, and is not restarted.
    await until(() => rt.processes().find((p) => p.pid === d)?.state === "suspended", WAIT);
    await rt.process.monitor(d);
    await sup.terminateChild("d");
    expect(await rt.process.receive(30_000)).toMatchObject({ type: "EXIT", from: d, error: { kind: "cancelled" } });
    expect((await sup.whichChildren())[2]).toEqual({ id: "d", pid: null, kind: "worker", state: "stopped", restarts: 0 });
    expect(events.some((e) => e.type === "child.exited" && e.child === "d" && e.outcome === "terminated")).toBe(true);

    // A nested supervisor stops its own children first.
    await sup.terminateChild("inner");
    expect(rt.supervisor("inner").state).toBe("stopped");
    expect(rt.processes().map((p) => p.pid)).not.toContain(deep);
    expect(await sup.countChildren()).toEqual({ specs: 4, active: 2, supervisors: 1, workers: 3 });

    // restartChild: a fresh pid; deleteChild forgets a terminated child.
    const d2 = await sup.restartChild("d");
    expect(d2).not.toBe(d);
    expect((await sup.whichChildren())[2]).toEqual({ id: "d", pid: d2, kind: "worker", state: "running", restarts: 1 });
    const inner2 = await sup.restartChild("inner");
    expect(rt.supervisor("inner").pid).toBe(inner2);
    expect(rt.supervisor("inner").state).toBe("running");
    await sup.terminateChild("d");
    await sup.deleteChild("d");
    expect((await sup.whichChildren()).map((c) => c.id)).toEqual(["a", "b", "inner"]);
    expect(await sup.countChildren()).toEqual({ specs: 3, active: 3, supervisors: 1, workers: 2 });
    // A deleted id can be started again.
    await sup.startChild(sleeper("d"));
    expect((await sup.whichChildren()).map((c) => c.id)).toEqual(["a", "b", "inner", "d"]);
    expect(sup.state).toBe("running");
  });

  it("each refused call rejects with its ChildError code and leaves the supervisor unchanged", async () => {
    const { runtime: rt } = await open();
    const sup = rt.startSupervisor({ id: "r", children: [sleeper("run"), sleeper("off"), { id: "wait", process: "t:behave", host: "t:hosts", input: [1], restart: later }] });
    await sup.terminateChild("off");
    await until(async () => (await sup.whichChildren())[2]!.state === "restarting", WAIT);
    const before = { children: await sup.whichChildren(), counts: await sup.countChildren(), processes: rt.processes() };
    const cases: [string, Promise<unknown>][] = [
      ["already_started", sup.startChild(sleeper("run"))],
      ["already_present", sup.startChild(sleeper("off"))],
      ["restarting", sup.startChild(sleeper("wait"))],
      ["running", sup.restartChild("run")],
      ["running", sup.deleteChild("run")],
      ["restarting", sup.restartChild("wait")],
      ["restarting", sup.deleteChild("wait")],
      ["not_found", sup.terminateChild("nope")],
      ["not_found", sup.restartChild("nope")],
      ["not_found", sup.deleteChild("nope")],
    ];
    for (const [code, call] of cases) {
      const err = await refusal(call);
      expect(err).toBeInstanceOf(ChildError);
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ name: "ChildError", code, message: expect.stringMatching(/^supervisor r/) });
    }
    expect({ children: await sup.whichChildren(), counts: await sup.countChildren(), processes: rt.processes() }).toEqual(before);
    expect(sup.state).toBe("running");
  });

  it("startChild validates its child like startSupervisor, and a child that cannot start is not kept", async () => {
    const { runtime: rt } = await open();
    const sup = rt.startSupervisor({ id: "v", children: [sleeper("a")] });
    const bad = await refusal(sup.startChild({ id: "b", process: "t:nope", host: "t:hosts" }));
    expect(bad).toBeInstanceOf(SupervisorSpecError);
    expect((bad as SupervisorSpecError).problems).toEqual(["supervisor v: startChild (b): process t:nope: no such entry in the registry"]);
    const failed = await refusal(sup.startChild({ id: "c", start: () => { throw new Error("no resources"); } }));
    expect(failed).toBeInstanceOf(ProcessError);
    expect(failed).toMatchObject({ kind: "spawn", message: "no resources" });
    expect((await sup.whichChildren()).map((c) => c.id)).toEqual(["a"]);
    expect(sup.state).toBe("running");
  });

  it("terminateChild of a child waiting out its backoff cancels the restart", async () => {
    const { runtime: rt } = await open();
    const sup = rt.startSupervisor({ id: "tb", children: [{ id: "x", process: "t:behave", host: "t:hosts", input: [1], restart: later }] });
    await until(async () => (await sup.whichChildren())[0]!.state === "restarting", WAIT);
    await sup.terminateChild("x");
    expect((await sup.whichChildren())[0]).toMatchObject({ state: "stopped", pid: null });
    await sup.deleteChild("x");
    expect(await sup.countChildren()).toEqual({ specs: 0, active: 0, supervisors: 0, workers: 0 });
  });

  it("calls on a stopped supervisor reject with ProcessError noproc; queries still answer", async () => {
    const { runtime: rt } = await open();
    const sup = rt.startSupervisor({ id: "gone", children: [sleeper("a")] });
    await sup.stop();
    expect(await refusal(sup.startChild(sleeper("b")))).toMatchObject({ name: "ProcessError", kind: "noproc" });
    expect((await sup.whichChildren()).map((c) => c.state)).toEqual(["stopped"]);
  });
});

describe("supervisor state", () => {
  it("starting while it starts its children, running, stopping while they stop, then stopped", async () => {
    const { runtime: rt } = await open();
    let seen: string | undefined;
    const sup = rt.startSupervisor({
      id: "st",
      children: [
        { id: "probe", start: () => { seen = rt.supervisor("st").state; return rt.newProcess().pid; }, stopTimeout: 50 },
        { id: "stubborn", process: "t:spinner", host: "t:hosts", input: [], stopTimeout: 100 },
      ],
    });
    expect(seen).toBe("starting");
    expect(sup.state).toBe("running");
    expect("phase" in sup).toBe(false);
    const done = sup.stop();
    expect(sup.state).toBe("stopping");
    await done;
    expect(sup.state).toBe("stopped");
  });
});

describe("runtime.processes()", () => {
  it("lists supervisors (kind supervisor, entry = its ID) beside their WASM children, until they stop", async () => {
    const { runtime: rt } = await open();
    const sup = rt.startSupervisor({ id: "top", children: [sleeper("a"), { id: "mid", supervisor: { id: "mid", children: [sleeper("b")] } }] });
    await until(() => rt.processes().every((p) => p.state === "suspended"), WAIT);
    const listed = rt.processes().map(({ pid, entry, host, kind, state, thread }) => ({ pid, entry, host, kind, state, thread }));
    const [a, mid] = (await sup.whichChildren()).map((c) => c.pid);
    const b = (await rt.supervisor("mid").whichChildren())[0]!.pid;
    // on the second CI pass (WIPPY_WORKERS) the sleepers run on worker threads, supervisors stay on thread 0
    const onWorkers = workerCount(undefined) > 0;
    const wasmThread = onWorkers ? expect.any(Number) : 0;
    expect(listed).toEqual([
      { pid: sup.pid, entry: "top", host: "runtime", kind: "supervisor", state: "suspended", thread: 0 },
      { pid: a, entry: "t:sleeper", host: "t:hosts", kind: "wasm", state: "suspended", thread: wasmThread },
      { pid: mid, entry: "mid", host: "runtime", kind: "supervisor", state: "suspended", thread: 0 },
      { pid: b, entry: "t:sleeper", host: "t:hosts", kind: "wasm", state: "suspended", thread: wasmThread },
    ]);
    if (onWorkers) for (const p of listed.filter((l) => l.kind === "wasm")) expect(p.thread).toBeGreaterThan(0);
    await sup.stop();
    expect(rt.processes()).toEqual([]);
  });
});

describe("XState error events from child actors", () => {
  const spec = normalizeSupervisor({ id: "x", children: [{ id: "c", start: () => "unused" }] });
  const failing = fromPromise<never>(async () => {
    throw new Error("child actor crashed");
  });

  it("a supervisor whose child actor errors stays running", async () => {
    // Each start spawns a real XState child actor that rejects: XState relays its error to the supervisor.
    const logic = supervisorMachine.provide({
      actions: {
        startChildren: enqueueActions(({ enqueue }, params: StartChildrenParams) => {
          for (const _ of params.children) enqueue.spawnChild(failing);
          enqueue.raise({ type: "SPAWNED", results: params.children.map(({ key }) => ({ key, pid: `{h|${key}}` })), at: 0, random: 0 });
        }),
        stopChild: () => {},
        reply: () => {},
      },
    });
    let relayed = false;
    const actor = createActor(logic, {
      input: { spec, pid: "{runtime|x}" },
      inspect: (ev) => void (ev.type === "@xstate.event" && ev.actorRef === actor && ev.event.type.startsWith("xstate.error.actor.") && (relayed = true)),
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    await until(() => relayed, WAIT);
    expect(errors).toEqual([]);
    expect(actor.getSnapshot().status).toBe("active");
    expect(actor.getSnapshot().value).toEqual({ active: "running" });
    // And a relayed error or done event sent outright changes nothing either.
    const before = actor.getSnapshot().context;
    actor.send({ type: "xstate.error.actor.other", error: new Error("boom"), actorId: "other" });
    actor.send({ type: "xstate.done.actor.other", output: 1, actorId: "other" });
    expect(actor.getSnapshot().value).toEqual({ active: "running" });
    expect(actor.getSnapshot().context).toBe(before);
    actor.stop();
  });
});
