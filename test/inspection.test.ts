// One actor system per runtime (SPEC 4.5): a root actor, hosts beneath it,
// supervisors and processes beneath those; an observer attached late hears of
// what already runs; a crashing actor never errors its parent; a supervision
// tree shows as a tree.

import { describe, expect, it } from "vitest";
import type { AnyActorRef, InspectionEvent } from "xstate";
import { createMachine } from "xstate";
import { fromProcess } from "../src/index.ts";
import { useRuntimes } from "./helpers/project.ts";
import { tsCrasherLogic, until } from "./helpers/supervision.ts";

const open = useRuntimes("inspection");
const ROOT = "wippy.runtime";

const YAML = `
namespace: app
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
`;
const BIN = { "wasm/sleeper.wasm": "c/sleeper.core.wasm" };

interface Seen {
  id: string;
  parent: string | undefined;
  rootId: string;
  session: string;
}

function recorder() {
  const actors: Seen[] = [];
  const snapshots: { id: string; status: string; value: unknown }[] = [];
  const observe = (e: InspectionEvent) => {
    const ref = e.actorRef as AnyActorRef;
    if (e.type === "@xstate.actor") actors.push({ id: ref.id, parent: ref._parent?.id, rootId: e.rootId, session: ref.sessionId });
    if (e.type === "@xstate.snapshot") {
      const snap = e.snapshot as { status: string; value?: unknown };
      snapshots.push({ id: ref.id, status: snap.status, value: snap.value });
    }
  };
  return { actors, snapshots, observe };
}

const waitFor = async (f: () => boolean, what: string) => {
  for (let i = 0; i < 600; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("inspection", () => {
  it("an observer attached late first hears of the root, the hosts and every running process, with one rootId and the tree's parents", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const wasm = await rt.process.spawn("app:sleeper", "app:hosts", "60000");
    await waitFor(() => rt.processes().some((p) => p.pid === wasm && p.state === "suspended"), "the sleeper to sleep");
    const actor = await rt.spawnActor(fromProcess(async ({ receive }) => receive()));
    const { actors, observe } = recorder();
    const off = rt.inspect(observe);
    const byId = new Map(actors.map((a) => [a.id, a]));
    expect(byId.get("wippy.runtime")?.parent).toBeUndefined();
    expect(byId.get("app:hosts")?.parent).toBe("wippy.runtime");
    expect(byId.get(wasm)?.parent).toBe("app:hosts");
    expect(byId.get(actor)?.parent).toBe("app:hosts");
    // a TS actor's pid is its lifecycle machine; the user's logic is that machine's child
    expect(actors.find((a) => a.parent === actor)?.id).toBe("logic");
    expect(new Set(actors.map((a) => a.rootId)).size).toBe(1);
    expect(actors.map((a) => a.rootId)[0]).toBe(byId.get("wippy.runtime")!.session);
    // from now on it sees new processes too, under their host
    const later = await rt.spawnActor(createMachine({}));
    expect(actors.find((a) => a.id === later)?.parent).toBe("app:hosts");
    off();
    const more = await rt.spawnActor(createMachine({}));
    expect(actors.some((a) => a.id === more)).toBe(false);
  });

  it("an inspected WASM process shows its states, and a process attached mid-run continues from the state it is in", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const { snapshots, observe } = recorder();
    rt.inspect(observe);
    const pid = await rt.process.spawnMonitored("app:sleeper", "app:hosts", "10");
    expect(await rt.process.receive(30_000)).toMatchObject({ type: "EXIT", from: pid, value: 0 });
    const states = snapshots.filter((s) => s.id === pid).map((s) => s.value);
    expect(states[0]).toBe("init");
    expect(states).toContain("suspended");
    expect(states.at(-1)).toBe("closed");
  });

  it("a crashing actor never puts its host or the root into an error state", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const { snapshots, observe } = recorder();
    rt.inspect(observe);
    const pid = await rt.spawnActor(fromProcess(async () => {
      throw new Error("crash");
    }), { monitor: true });
    expect(await rt.process.receive(30_000)).toMatchObject({ type: "EXIT", from: pid, error: { kind: "error", message: "crash" } });
    const machine = await rt.spawnActor(createMachine({ on: { boom: { actions: () => { throw new Error("in an action"); } } } }), { monitor: true });
    await rt.process.send(machine, "boom");
    expect(await rt.process.receive(30_000)).toMatchObject({ type: "EXIT", from: machine, error: { kind: "error", message: "in an action" } });
    for (const id of ["app:hosts", "wippy.runtime"]) {
      const last = snapshots.filter((s) => s.id === id).at(-1);
      expect(last?.status ?? "active").toBe("active");
    }
    expect(snapshots.some((s) => s.status === "error" && (s.id === "app:hosts" || s.id === "wippy.runtime" || s.id === pid || s.id === machine))).toBe(false);
    // and the host still takes processes
    const ok = await rt.spawnActor(createMachine({ initial: "a", states: { a: { type: "final" } }, output: () => "fine" }), { monitor: true });
    expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: ok, value: "fine" });
  });

  it("a two-level supervision tree: each supervisor under its host or parent supervisor, each child under its supervisor; a crashing child leaves it running", async () => {
    const { runtime: rt } = await open(YAML, BIN);
    const { actors, snapshots, observe } = recorder();
    rt.inspect(observe);
    const top = rt.startSupervisor({
      id: "top",
      children: [
        { id: "w", actor: tsCrasherLogic },
        { id: "nested", supervisor: { id: "inner", children: [{ id: "s", process: "app:sleeper", host: "app:hosts", input: ["600000"] }] } },
      ],
    });
    // the nested supervisor starts right after its parent's step
    await until(() => { try { return rt.supervisor("inner").state === "running"; } catch { return false; } }, 30_000, "inner to run");
    const [w, nested] = await top.children();
    const [s] = await rt.supervisor("inner").children();
    const parentOf = (id: string) => actors.filter((a) => a.id === id).map((a) => a.parent);
    // a supervisor without a host is shown under the runtime's own host
    expect(parentOf("top")).toEqual(["runtime"]);
    expect(parentOf("runtime")).toEqual([ROOT]);
    expect(parentOf(w!.pid!)).toEqual(["top"]);
    expect(actors.find((a) => a.parent === w!.pid)?.id).toBe("logic");
    expect(parentOf("inner")).toEqual(["top"]);
    expect(nested!.pid).toBe(rt.supervisor("inner").pid);
    expect(parentOf(s!.pid!)).toEqual(["inner"]);

    // the TS child crashes: "top" restarts it, under itself, and stays running
    await rt.process.monitor(w!.pid!);
    await rt.process.send(w!.pid!, "crash");
    expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: w!.pid, error: { kind: "error", message: "asked to crash" } });
    const w1 = await until(async () => { const c = (await top.children())[0]!; return c.state === "running" && c.restarts === 1 ? c.pid : null; }, 5000, "w restarted");
    expect(parentOf(w1)).toEqual(["top"]);
    expect(rt.supervisor("top").state).toBe("running");
    const topSnapshots = snapshots.filter((x) => x.id === "top");
    expect(topSnapshots.length).toBeGreaterThan(0);
    expect(topSnapshots.filter((x) => x.status !== "active")).toEqual([]);
    // and it still stops its children when asked
    expect(await rt.process.send(w1, "crash")).toBe(true);
    await top.stop();
    expect(snapshots.filter((x) => x.id === "top" && x.status === "error")).toEqual([]);
    expect(snapshots.filter((x) => x.id === "top").at(-1)?.status).toBe("done");
  });
});
