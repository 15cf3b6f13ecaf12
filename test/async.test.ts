// A blocking WASI call suspends only its own process (issue 3), through the runtime.
import { PassThrough } from "node:stream";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Runtime } from "../src/index.ts";
import { captureStdio, makeProject } from "./helpers/project.ts";

const opened: Runtime[] = [];
afterEach(async () => {
  for (const r of opened.splice(0)) await r.close(200);
});

const YAML = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: data, kind: fs.directory, directory: ./data }
  - { name: out, kind: fs.directory, directory: ./out }
  - { name: hosts, kind: process.host }
  - { name: small, kind: process.host, host: { max_processes: 2 } }
  - { name: secret, kind: env.variable, variable: WIPPY_TEST_SECRET }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
  - { name: cat, kind: process.wasm, fs: bin, path: /cat.wasm, hash: "{{hash:wasm/cat.wasm}}", method: _start, imports: [wasi:cli, wasi:io] }
  - { name: cat_no_cli, kind: process.wasm, fs: bin, path: /cat.wasm, hash: "{{hash:wasm/cat.wasm}}", method: _start, imports: [wasi:io] }
  - name: hello
    kind: process.wasm
    fs: bin
    path: /hello.wasm
    hash: "{{hash:wasm/hello.wasm}}"
    method: _start
    imports: [wasi:cli]
    wasi: { env: [{ id: secret, name: GREETING, required: true }] }
  - name: files
    kind: process.wasm
    fs: bin
    path: /files.wasm
    hash: "{{hash:wasm/files.wasm}}"
    method: _start
    imports: [wasi:cli, wasi:filesystem]
    wasi:
      mounts:
        - { fs: data, guest: /data, read_only: true }
        - { fs: out, guest: /out }
  - name: files_no_fs
    kind: process.wasm
    fs: bin
    path: /files.wasm
    hash: "{{hash:wasm/files.wasm}}"
    method: _start
    imports: [wasi:cli]
    wasi: { mounts: [{ fs: data, guest: /data }] }
`;
const BINARIES = {
  "wasm/sleeper.wasm": "c/sleeper.core.wasm",
  "wasm/cat.wasm": "c/cat.core.wasm",
  "wasm/hello.wasm": "c/hello.core.wasm",
  "wasm/files.wasm": "c/files.core.wasm",
};

async function open(opts: { env?: Record<string, string>; stdin?: (pid: string) => Promise<Uint8Array | null>; inspect?: Parameters<typeof Runtime.open>[0] extends infer O ? O extends { inspect?: infer I } ? I : never : never } = {}) {
  const project = makeProject(YAML, BINARIES, { "data/in.txt": "original", "out/.keep": "" });
  const io = captureStdio();
  const runtime = await Runtime.open({
    root: project.root,
    env: opts.env ?? {},
    stdio: { ...io.stdio, ...(opts.stdin ? { stdin: opts.stdin } : {}) },
    ...(opts.inspect ? { inspect: opts.inspect } : {}),
  });
  opened.push(runtime);
  return { runtime, project, io };
}

describe("suspension", () => {
  it("1 000 processes sleeping 100 ms each run concurrently while a timer ticks", async () => {
    const { runtime: rt, io } = await open();
    let ticks = 0;
    let maxAsleep = 0;
    const timer = setInterval(() => {
      ticks++;
      maxAsleep = Math.max(maxAsleep, rt.processes().filter((p) => p.state === "suspended").length);
    }, 5);
    const started = performance.now();
    const pids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      pids.add(await rt.process.spawnMonitored("t:sleeper", "t:hosts", "100"));
      if (i % 100 === 99) await new Promise((r) => setImmediate(r)); // let the loop breathe, as a server would
    }

    let normal = 0;
    for (let i = 0; i < 1000; i++) {
      const ev = await rt.process.receive(30_000);
      if (ev?.type === "EXIT" && "value" in ev && ev.value === 0 && pids.delete(ev.from)) normal++;
    }
    const wall = performance.now() - started;
    clearInterval(timer);
    console.log(`1000 sleepers × 100 ms: wall ${wall.toFixed(0)} ms, ${ticks} timer ticks, up to ${maxAsleep} asleep at once`);
    expect(normal).toBe(1000);
    expect(wall).toBeLessThan((1000 * 100) / 10); // serial would be 100 s
    expect(ticks).toBeGreaterThan(0); // the event loop ran while processes slept
    expect(maxAsleep).toBeGreaterThan(1); // many slept at once
    expect(io.stdout([...pids][0] ?? "")).toBe("");
  });

  it("goes stepping → suspended → stepping around a host wait", async () => {
    const states: string[] = [];
    const { runtime: rt } = await open({
      inspect: (ev) => {
        if (ev.type === "@xstate.snapshot" && (ev.actorRef as unknown as { id: string }).id.startsWith("{t:hosts")) { const v = String((ev.snapshot as unknown as { value: unknown }).value); if (states.at(-1) !== v) states.push(v); } // LOADED stays in init
      },
    });
    expect(await rt.process.exec("t:sleeper", "t:hosts", "20")).toEqual({ value: 0 });
    expect(states[0]).toBe("init");
    expect(states.slice(1, 4)).toEqual(["stepping", "suspended", "stepping"]);
    expect(states.at(-1)).toBe("closed");
    expect(states.filter((s) => s === "suspended").length).toBeGreaterThanOrEqual(1);
  });

  it("a process blocked reading stdin does not hold up another; killing it ends the wait", async () => {
    const stdin = new PassThrough(); // never ends
    const { runtime: rt } = await open({
      stdin: () => new Promise((resolve) => stdin.once("data", (c: Buffer) => resolve(new Uint8Array(c)))),
    });
    const reader = await rt.process.spawnMonitored("t:cat", "t:hosts");
    expect(await rt.process.exec("t:sleeper", "t:hosts", "10")).toEqual({ value: 0 });
    // (on a worker thread its state reaches the main thread shortly after)
    await expect.poll(() => rt.processes().find((p) => p.pid === reader)?.state).toBe("suspended");
    rt.process.terminate(reader);
    expect(await rt.process.receive(30_000)).toMatchObject({ type: "EXIT", from: reader, error: { kind: "killed" } });
    expect(rt.processes()).toEqual([]);
  });

  it("cancel ends a suspended process gracefully with kind cancelled", async () => {
    const { runtime: rt } = await open();
    const pid = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
    await new Promise((r) => setTimeout(r, 20));
    rt.process.cancel(pid, "shutting down");
    expect(await rt.process.receive(30_000)).toEqual({ type: "EXIT", from: pid, error: { kind: "cancelled", message: "shutting down" } });
  });
});

describe("sandbox", () => {
  it("the guest sees only the environment its entry grants; a missing required value fails the spawn", async () => {
    const { runtime: rt, io } = await open({ env: { WIPPY_TEST_SECRET: "granted value", OTHER: "x" } });
    const pid = await rt.process.spawnMonitored("t:hello", "t:hosts");
    expect(await rt.process.receive(30_000)).toMatchObject({ from: pid, value: 0 });
    expect(io.stdout(pid)).toBe("hello from wasi\nhello\ngranted value\n");

    const { runtime: rt2 } = await open({ env: {} });
    expect(await rt2.process.exec("t:hello", "t:hosts")).toEqual({
      error: { kind: "spawn", message: "t:hello: required environment variable GREETING (from t:secret) has no value; set the OS variable WIPPY_TEST_SECRET or give t:secret a default" },
    });
  });

  it("a write under a read-only mount fails inside the guest and the file is unchanged", async () => {
    const { runtime: rt, io, project } = await open();
    const pid = await rt.process.spawnMonitored("t:files", "t:hosts", "write", "/data/in.txt", "overwritten");
    expect(await rt.process.receive(30_000)).toMatchObject({ from: pid, error: { kind: "exit", code: 1 } });
    expect(io.stderr(pid)).toMatch(/files: write \/data\/in\.txt: Read-only file system/);
    expect(readFileSync(project.path("data/in.txt"), "utf8")).toBe("original");

    expect(await rt.process.exec("t:files", "t:hosts", "write", "/out/new.txt", "written")).toEqual({ value: 0 });
    expect(readFileSync(project.path("out/new.txt"), "utf8")).toBe("written");
    const read = await rt.process.spawnMonitored("t:files", "t:hosts", "read", "/data/in.txt");
    await rt.process.receive(30_000);
    expect(io.stdout(read)).toBe("original");
  });

  it("paths never escape their mount", async () => {
    const { runtime: rt, io } = await open();
    const pid = await rt.process.spawnMonitored("t:files", "t:hosts", "read", "/data/../../src/app.yaml");
    expect(await rt.process.receive(30_000)).toMatchObject({ from: pid, error: { kind: "exit", code: 1 } });
    expect(io.stdout(pid)).toBe("");
  });

  it("no filesystem without wasi:filesystem, even with mounts", async () => {
    const { runtime: rt } = await open();
    expect(await rt.process.exec("t:files_no_fs", "t:hosts", "read", "/data/in.txt")).toMatchObject({
      error: { kind: "spawn", message: expect.stringMatching(/^t:files_no_fs: imports wasi:filesystem but the entry does not grant it/) },
    });
  });

  it("a guest importing an interface not granted fails at spawn naming it and the entry", async () => {
    const { runtime: rt } = await open();
    expect(await rt.process.exec("t:cat_no_cli", "t:hosts")).toMatchObject({
      error: { kind: "spawn", message: expect.stringMatching(/^t:cat_no_cli: imports wasi:cli but the entry does not grant it/) },
    });
  });
});

describe("hosts, monitors and links with live processes", () => {
  it("spawning past max_processes is an error; a slot frees when a process ends", async () => {
    const { runtime: rt } = await open();
    const a = await rt.process.spawnMonitored("t:sleeper", "t:small", "5000");
    await rt.process.spawn("t:sleeper", "t:small", "5000");
    await expect(rt.process.spawn("t:sleeper", "t:small", "10")).rejects.toThrow("process host t:small is full (max_processes: 2)");
    rt.process.terminate(a);
    expect(await rt.process.receive(30_000)).toMatchObject({ from: a, error: { kind: "killed" } });
    await expect(rt.process.spawn("t:sleeper", "t:small", "10")).resolves.toMatch(/^\{t:small\|/);
  });

  it("unmonitor stops the EXIT; unlink stops the link", async () => {
    const { runtime: rt } = await open();
    const pid = await rt.process.spawnMonitored("t:sleeper", "t:hosts", "30");
    rt.process.unmonitor(pid);
    const watcher = rt.newProcess();
    rt.process.monitor(watcher.pid);
    const linked = await watcher.spawnLinked("t:sleeper", "t:hosts", "5000");
    watcher.unlink(linked);
    rt.process.terminate(linked);
    expect(await rt.process.receive(200)).toBeNull(); // neither the unmonitored EXIT nor the watcher's death
    expect(watcher.ended).toBe(false);
  });
});
