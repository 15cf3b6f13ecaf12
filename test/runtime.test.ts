import { afterEach, describe, expect, it } from "vitest";
import { Runtime } from "../src/index.ts";
import { captureStdio, makeProject } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";
import { workerCount } from "../src/threads/workers.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const actorId = (ref: unknown) => (ref as { id: string }).id;
const stateOf = (snapshot: unknown) => String((snapshot as { value: unknown }).value);
const cacheDir = mkdtempSync(join(tmpdir(), "wippy-cache-"));
const opened: Runtime[] = [];
afterEach(async () => {
  for (const r of opened.splice(0)) await r.close(100);
});

async function open(yaml: string, binaries: Record<string, string> = {}) {
  const project = makeProject(yaml, binaries);
  const io = captureStdio();
  const runtime = await Runtime.open({ root: project.root, cacheDir, stdio: io.stdio });
  opened.push(runtime);
  return { runtime, project, io };
}

const CORE = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 3 } }
  - { name: compute, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
  - { name: trap, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: trap }
  - { name: divide, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: divide }
  - { name: fdiv, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: fdiv }
  - { name: missing_export, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: nope }
  - { name: wrong_hash, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "sha256:${"0".repeat(64)}", method: compute }
  - { name: missing_file, kind: process.wasm, fs: bin, path: /absent.wasm, hash: "sha256:${"0".repeat(64)}", method: compute }
  - { name: not_wasm, kind: process.wasm, fs: bin, path: /notes.wasm, hash: "{{hash:wasm/notes.wasm}}", method: compute }
  - { name: mul, kind: function.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
`;

async function openCore() {
  const project = makeProject(CORE, { "wasm/compute.wasm": "core/compute.wasm" }, { "wasm/notes.wasm": "these are not wasm bytes" });
  const runtime = await Runtime.open({ root: project.root, cacheDir, stdio: captureStdio().stdio });
  opened.push(runtime);
  return runtime;
}

describe("core module processes", () => {
  it("spawnMonitored → EXIT with the method's value (the seed's 6 × 7)", async () => {
    const rt = await openCore();
    const pid = await rt.process.spawnMonitored("t:compute", "t:hosts", 6, 7);
    expect(pid).toMatch(/^\{t:hosts\|[0-9A-Za-z]+\}$/);
    // the first spawn compiles and instruments: a generous timeout (no speed is asserted here)
    expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: pid, value: 42 });
    expect(rt.processes()).toEqual([]);
  });

  it("a trapping guest ends with an EXIT error of kind trap", async () => {
    const rt = await openCore();
    const pid = await rt.process.spawnMonitored("t:trap", "t:hosts");
    const ev = await rt.process.receive(30_000);
    expect(ev).toMatchObject({ type: "EXIT", from: pid, error: { kind: "trap" } });
    expect((ev as { error: { message: string } }).error.message).toMatch(/unreachable/);
    const pid2 = await rt.process.spawnMonitored("t:divide", "t:hosts", 1, 0);
    expect(await rt.process.receive(30_000)).toMatchObject({ from: pid2, error: { kind: "trap", message: expect.stringMatching(/divide by zero/) } });
  });

  it("checks argument count and type against the exported signature", async () => {
    const rt = await openCore();
    expect(await rt.process.exec("t:compute", "t:hosts", 6)).toEqual({
      error: { kind: "spawn", message: "compute takes 2 arguments (i32, i32), got 1" },
    });
    expect(await rt.process.exec("t:compute", "t:hosts", 6, "seven")).toMatchObject({
      error: { kind: "spawn", message: expect.stringContaining('argument 2 of compute must be a number (i32), got "seven"') },
    });
    expect(await rt.process.exec("t:compute", "t:hosts", 1.5, 2)).toMatchObject({ error: { kind: "spawn" } });
    expect(await rt.process.exec("t:compute", "t:hosts", "6", "7")).toEqual({ value: 42 });
    expect(await rt.process.exec("t:fdiv", "t:hosts", 1, 4)).toEqual({ value: 0.25 });
  });

  it("bad binaries give a clear spawn error naming the entry", async () => {
    const rt = await openCore();
    const cases: [string, RegExp][] = [
      ["t:missing_export", /t:missing_export: method nope is not an exported function \(exports: .*compute/],
      ["t:wrong_hash", /t:wrong_hash: hash mismatch for \/compute\.wasm: expected sha256:0{64}, actual sha256:[0-9a-f]{64}/],
      ["t:missing_file", /t:missing_file: binary \/absent\.wasm not found in fs\.directory t:bin/],
      ["t:not_wasm", /t:not_wasm: \/notes\.wasm: not a WebAssembly binary/],
    ];
    for (const [id, message] of cases) {
      const result = await rt.process.exec(id, "t:hosts");
      expect(result).toMatchObject({ error: { kind: "spawn" } });
      expect((result as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(rt.processes()).toEqual([]);
  });

  it("spawn into a missing or full host is an error, not a crash", async () => {
    const rt = await openCore();
    await expect(rt.process.spawn("t:compute", "t:nohost", 1, 2)).rejects.toThrow(/no process.host t:nohost/);
    await expect(rt.process.spawn("t:nothing", "t:hosts")).rejects.toThrow(/no entry t:nothing/);
    await expect(rt.process.spawn("t:mul", "t:hosts")).rejects.toThrow(/function.wasm, not a process.wasm/);
  });

  it("function.wasm entries are called, not spawned", async () => {
    const rt = await openCore();
    expect(await rt.call("t:mul", 3, 5)).toBe(15);
    await expect(rt.call("t:compute", 3, 5)).rejects.toThrow(/not a function.wasm/);
  });

  it("compiles once per hash: spawning again does not recompile", async () => {
    const rt = await openCore();
    for (let i = 0; i < 5; i++) await rt.process.exec("t:compute", "t:hosts", i, 2);
    await rt.process.exec("t:trap", "t:hosts");
    expect(rt.loaderStats.compiled).toBe(1);
  });
});

describe("process machine", () => {
  it("the transition table a process uses when not inspected is the machine's own: same states as an actor, event by event", async () => {
    const { createActor } = await import("xstate");
    const { processMachine } = await import("../machines/process.ts");
    const { processTransitions, processInitialState } = await import("../src/generated/process-transitions.ts");
    const types = ["LOADED", "STEP", "SUSPEND", "RESUME", "CLOSE"] as const;
    let seed = 7;
    for (let run = 0; run < 200; run++) {
      // the actor runs the named actions as XState does; the lean path runs the table's
      const ran: string[] = [];
      const note = (name: string) => () => void ran.push(name);
      const logic = processMachine.provide({ actions: { instantiate: note("instantiate"), run: note("run"), free: note("free") } });
      const actor = createActor(logic, { input: { pid: "p", entry: "e", host: "h" } }).start();
      let lean = processInitialState;
      const leanRan: string[] = [];
      for (let k = 0; k < 10; k++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const type = types[seed % 5]!;
        actor.send(type === "CLOSE" ? { type, exit: {} } : { type });
        const t = processTransitions[lean][type];
        if (t) {
          lean = t.target;
          leanRan.push(...t.actions);
        }
        expect(lean).toBe(actor.getSnapshot().value);
        expect(leanRan).toEqual(ran);
      }
    }
  });

  it("goes init → stepping → closed for a synchronous guest", async () => {
    const states: string[] = [];
    const project = makeProject(CORE, { "wasm/compute.wasm": "core/compute.wasm" }, { "wasm/notes.wasm": "x" });
    const rt = await Runtime.open({
      root: project.root,
      cacheDir,
      inspect: (ev) => {
        if (ev.type === "@xstate.snapshot" && actorId(ev.actorRef).startsWith("{t:hosts") && states.at(-1) !== stateOf(ev.snapshot)) states.push(stateOf(ev.snapshot));
      },
    });
    opened.push(rt);
    await rt.process.exec("t:compute", "t:hosts", 2, 3);
    expect(states).toEqual(["init", "stepping", "closed"]); // LOADED (instantiate) stays in init
  });
});

describe("monitors and links", () => {
  it("monitoring a pid that is gone delivers EXIT noproc at once", async () => {
    const rt = await openCore();
    rt.process.monitor("{t:hosts|gone}");
    expect(await rt.process.receive(100)).toMatchObject({ type: "EXIT", from: "{t:hosts|gone}", error: { kind: "noproc" } });
  });

  it("a linked failure takes down a process that does not trap links; LINK_DOWN when it does", async () => {
    const rt = await openCore();
    const watcher = rt.newProcess();
    rt.process.monitor(watcher.pid);
    await watcher.spawnLinked("t:trap", "t:hosts");
    expect(await rt.process.receive(30_000)).toMatchObject({ type: "EXIT", from: watcher.pid, error: { kind: "link" } });

    const trapper = rt.newProcess();
    trapper.setOptions({ trapLinks: true });
    const pid = await trapper.spawnLinked("t:trap", "t:hosts");
    expect(await trapper.receive(30_000)).toMatchObject({ type: "LINK_DOWN", from: pid, error: { kind: "trap" } });
    // a normal exit sends nothing over a link
    await trapper.spawnLinked("t:compute", "t:hosts", 1, 1);
    expect(await trapper.receive(50)).toBeNull();
  });

  it("receive times out with null", async () => {
    const rt = await openCore();
    expect(await rt.process.receive(20)).toBeNull();
  });
});

const COMPONENTS = `
namespace: c
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: greet, kind: process.wasm, fs: bin, path: /greet.wasm, hash: "{{hash:wasm/greet.wasm}}", method: greet }
  - { name: point, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: point }
  - { name: sum, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: sum }
  - { name: div, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: checked-div }
  - { name: boom, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: boom }
  - { name: double, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: "calc#double" }
  - { name: double_fq, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: "test:types/calc#double" }
  - { name: nope, kind: process.wasm, fs: bin, path: /types.wasm, hash: "{{hash:wasm/types.wasm}}", method: "calc#triple" }
`;

describe("component processes", () => {
  const binaries = { "wasm/greet.wasm": "components/greet/greet.wasm", "wasm/types.wasm": "components/types/types.wasm" };

  it("passes and returns WIT values: string, record, list, result, interface functions", async () => {
    const { runtime: rt } = await open(COMPONENTS, binaries);
    const p = rt.process;
    expect(await p.exec("c:greet", "c:hosts", "Ada")).toEqual({ value: "Hello, Ada!" });
    expect(await p.exec("c:point", "c:hosts", 3, -4)).toEqual({ value: { x: 3, y: -4 } });
    expect(await p.exec("c:sum", "c:hosts", [1, 2, 3, 2147483647])).toMatchObject({ value: 2147483653n });
    expect(await p.exec("c:div", "c:hosts", 7, 2)).toEqual({ value: 3 });
    expect(await p.exec("c:double", "c:hosts", 21)).toEqual({ value: 42 });
    expect(await p.exec("c:double_fq", "c:hosts", 5)).toEqual({ value: 10 });
  });

  it("a result err becomes an EXIT error; a trap is kind trap", async () => {
    const { runtime: rt } = await open(COMPONENTS, binaries);
    const pid = await rt.process.spawnMonitored("c:div", "c:hosts", 1, 0);
    expect(await rt.process.receive(30_000)).toEqual({
      type: "EXIT",
      from: pid,
      error: { kind: "exit", message: "division by zero", value: "division by zero" },
    });
    expect(await rt.process.exec("c:boom", "c:hosts")).toMatchObject({ error: { kind: "trap" } });
  });

  it("missing export and wrong argument count are spawn errors", async () => {
    const { runtime: rt } = await open(COMPONENTS, binaries);
    expect(await rt.process.exec("c:nope", "c:hosts", 1)).toMatchObject({
      error: { kind: "spawn", message: expect.stringMatching(/method calc#triple is not exported by the component \(exports: .*double/) },
    });
    expect(await rt.process.exec("c:greet", "c:hosts")).toMatchObject({ error: { kind: "spawn", message: "greet takes 1 argument (name: string), got 0" } });
  });

  it("goes init → stepping → closed", async () => {
    const states: string[] = [];
    const project = makeProject(COMPONENTS, binaries);
    const rt = await Runtime.open({
      root: project.root,
      cacheDir,
      inspect: (ev) => {
        if (ev.type === "@xstate.snapshot" && actorId(ev.actorRef).startsWith("{c:hosts") && states.at(-1) !== stateOf(ev.snapshot)) states.push(stateOf(ev.snapshot));
      },
    });
    opened.push(rt);
    expect(await rt.process.exec("c:greet", "c:hosts", "Bo")).toEqual({ value: "Hello, Bo!" });
    expect(states).toEqual(["init", "stepping", "closed"]);
  });
});

describe("component argument types", () => {
  it("checks WIT types and converts command-line strings", async () => {
    const { runtime: rt } = await open(COMPONENTS, { "wasm/greet.wasm": "components/greet/greet.wasm", "wasm/types.wasm": "components/types/types.wasm" });
    expect(await rt.process.exec("c:double", "c:hosts", "21")).toEqual({ value: 42 });
    expect(await rt.process.exec("c:double", "c:hosts", "abc")).toMatchObject({
      error: { kind: "spawn", message: 'argument 1 (x) of calc#double must be an integer (s32), got "abc"' },
    });
    expect(await rt.process.exec("c:greet", "c:hosts", 5)).toMatchObject({ error: { kind: "spawn", message: expect.stringContaining("must be a string, got 5") } });
    expect(await rt.process.exec("c:sum", "c:hosts", [1, "x"])).toMatchObject({ error: { kind: "spawn", message: expect.stringContaining("[1]") } });
  });
});

describe("API argument edge cases (issue 13)", () => {
  const SLEEPER = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
`;
  const openSleeper = async () => (await open(SLEEPER, { "wasm/sleeper.wasm": "c/sleeper.core.wasm" })).runtime;

  it("an entry or host id that is not a string is a TypeError naming the call and the value", async () => {
    const rt = await openCore();
    for (const [bad, shown] of [[null, "null"], [123, "123"], [{}, "an object"], [undefined, "undefined"]] as const) {
      await expect(rt.process.spawn(bad as unknown as string, "t:hosts")).rejects.toThrow(new TypeError(`spawn: entry id must be a string like ns:name, got ${shown}`));
      await expect(rt.process.exec(bad as unknown as string, "t:hosts")).rejects.toThrow(new TypeError(`spawn: entry id must be a string like ns:name, got ${shown}`));
    }
    await expect(rt.process.spawnMonitored("t:compute", 7 as unknown as string, 6, 7)).rejects.toThrow(new TypeError("spawn: host id must be a string like ns:name, got 7"));
    await expect(rt.call(null as unknown as string)).rejects.toThrow(new TypeError("call: function id must be a string like ns:name, got null"));
    expect(rt.processes()).toEqual([]);
  });

  it("a timeout that is not a finite number ≥ 0 is a RangeError: receive, cancel, close", async () => {
    const rt = await openCore();
    rt.process.send(rt.process.pid, "ping"); // would satisfy a receive that wrongly waits
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, "10" as unknown as number]) {
      await expect(rt.process.receive(bad)).rejects.toThrow(RangeError);
    }
    await expect(rt.process.receive(Number.NaN)).rejects.toThrow("receive: timeoutMs must be a finite number of milliseconds ≥ 0 (leave it out to wait forever), got NaN");
    expect(await rt.process.receive(0)).toMatchObject({ type: "MESSAGE", topic: "ping" }); // the message is still there
    expect(await rt.process.receive(0)).toBeNull();

    const pid = await rt.process.spawnMonitored("t:compute", "t:hosts", 6, 7);
    await expect(rt.process.cancel(pid, "stop", Number.NaN)).rejects.toThrow(new RangeError("cancel: timeoutMs must be a finite number of milliseconds ≥ 0, got NaN"));
    await expect(rt.process.cancel(pid, "stop", -5)).rejects.toThrow(RangeError);
    await expect(rt.close(Number.NaN)).rejects.toThrow(new RangeError("close: timeoutMs must be a finite number of milliseconds ≥ 0, got NaN"));
  });

  it("cancel with a reason that cannot be serialised still ends the process cancelled, waiting or not yet", async () => {
    const rt = await openSleeper();
    const circular: Record<string, unknown> = { why: "shutdown" };
    circular.self = circular;
    // first spawn: still loading, so the cancel is honoured at its first host wait
    const loading = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
    expect(rt.processes().find((p) => p.pid === loading)?.state).toBe("init");
    rt.process.cancel(loading, circular, 60_000); // loading (instrumenting) may take seconds on a busy machine
    expect(await rt.process.receive()).toEqual({
      type: "EXIT",
      from: loading,
      error: { kind: "cancelled", message: "cancelled (the reason, an object, could not be serialised)" },
    });
    // loaded now: the guest is already waiting when spawn returns (on a worker thread, soon after), so the cancel ends it at once
    const waiting = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
    if (workerCount(undefined) > 0) await until(() => rt.processes().find((p) => p.pid === waiting)?.state === "suspended", 30_000, "the sleeper to wait on its worker");
    expect(rt.processes().find((p) => p.pid === waiting)?.state).toBe("suspended");
    rt.process.cancel(waiting, circular);
    expect(await rt.process.receive()).toMatchObject({ type: "EXIT", from: waiting, error: { kind: "cancelled" } });
    // a serialisable reason is its JSON, as before
    const third = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
    rt.process.cancel(third, { why: "shutdown" });
    expect(await rt.process.receive()).toMatchObject({ from: third, error: { kind: "cancelled", message: '{"why":"shutdown"}' } });
  });
});
