// Our async WASI Preview 2 host (src/wasi/p2) under real component commands
// built from C (fixtures/c/*.wasm) and run as processes through Runtime.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { Runtime, type RuntimeOptions } from "../src/index.ts";
import type { WasmEntry } from "../src/registry/types.ts";
import { ASYNC_IMPORTS, createP2Imports } from "../src/wasi/p2/index.ts";
import { Budget } from "../src/process/budget.ts";
import type { ProcessIO } from "../src/wasm/program.ts";
import { captureStdio, makeProject } from "./helpers/project.ts";

const cacheDir = mkdtempSync(join(tmpdir(), "wippy-p2-cache-"));
const opened: Runtime[] = [];
afterEach(async () => {
  for (const r of opened.splice(0)) await r.close(100);
});

const BINARIES = {
  "wasm/hello.wasm": "c/hello.wasm",
  "wasm/sleeper.wasm": "c/sleeper.wasm",
  "wasm/cat.wasm": "c/cat.wasm",
  "wasm/exit3.wasm": "c/exit3.wasm",
  "wasm/crash.wasm": "c/crash.wasm",
  "wasm/exit-code.wasm": "components/exit-code/exit-code.wasm",
};

const CLI = "[wasi:cli, wasi:io, wasi:clocks, wasi:filesystem]";
const YAML = `
namespace: p
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: greeting, kind: env.variable, default: "hi there" }
  - { name: code, kind: env.variable, variable: P2_TEST_EXIT }
  - name: hello
    kind: process.wasm
    fs: bin
    path: /hello.wasm
    hash: "{{hash:wasm/hello.wasm}}"
    method: wasi:cli/run#run
    imports: ${CLI}
    wasi:
      env:
        - { id: greeting, name: GREETING }
        - { id: code, name: EXIT_CODE }
  - { name: hello_fixed, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:wasm/hello.wasm}}", method: wasi:cli/run#run, imports: ${CLI}, wasi: { args: [x, "y z"] } }
  - { name: hello_nofs, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:wasm/hello.wasm}}", method: wasi:cli/run#run, imports: [wasi:cli, wasi:io, wasi:clocks] }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: wasi:cli/run#run, imports: ${CLI} }
  - { name: cat, kind: process.wasm, fs: bin, path: /cat.wasm, hash: "{{hash:wasm/cat.wasm}}", method: wasi:cli/run#run, imports: ${CLI} }
  - { name: exit3, kind: process.wasm, fs: bin, path: /exit3.wasm, hash: "{{hash:wasm/exit3.wasm}}", method: wasi:cli/run#run, imports: [wasi:cli, wasi:io] }
  - { name: crash, kind: process.wasm, fs: bin, path: /crash.wasm, hash: "{{hash:wasm/crash.wasm}}", method: wasi:cli/run#run, imports: [wasi:cli, wasi:io] }
  - { name: exit_code, kind: process.wasm, fs: bin, path: /exit-code.wasm, hash: "{{hash:wasm/exit-code.wasm}}", method: wasi:cli/run#run, imports: [wasi:cli] }
`;

async function open(opts: Partial<RuntimeOptions> = {}, env: Record<string, string> = {}) {
  const project = makeProject(YAML, BINARIES);
  const io = captureStdio();
  const runtime = await Runtime.open({ root: project.root, cacheDir, env, stdio: { ...io.stdio, ...opts.stdio }, ...(opts.inspect ? { inspect: opts.inspect } : {}) });
  opened.push(runtime);
  return { runtime, project, io };
}

/** Spawns and waits for the EXIT, returning it with the process's output. */
async function run(rt: Runtime, io: ReturnType<typeof captureStdio>, id: string, ...args: unknown[]) {
  const pid = await rt.process.spawnMonitored(id, `${id.split(":")[0]}:hosts`, ...args);
  const exit = await rt.process.receive(20_000);
  return { pid, exit, stdout: io.stdout(pid), stderr: io.stderr(pid) };
}

describe("cli, io, clocks", () => {
  it("hello: stdout, stderr, argv[0] is the entry's name, env exactly as granted, exit 0 → value 0", async () => {
    const { runtime, io } = await open({}, { GREETING: "from the host", HOME: "/root" });
    const r = await run(runtime, io, "p:hello", "a", "b c");
    expect(r.exit).toMatchObject({ type: "EXIT", from: r.pid, value: 0 });
    expect(r.stdout).toBe("hello from wasi\nhello\na\nb c\nhi there\n");
    expect(r.stderr).toBe("to stderr\n");
  });

  it("wasi.args replace spawn arguments; EXIT_CODE=7 through the adapter is status 1", async () => {
    const { runtime, io } = await open({}, { P2_TEST_EXIT: "7" });
    const fixed = await run(runtime, io, "p:hello_fixed", "ignored");
    expect(fixed.stdout).toBe("hello from wasi\nhello_fixed\nx\ny z\n");
    const seven = await run(runtime, io, "p:hello");
    expect(seven.exit).toMatchObject({ error: { kind: "exit", code: 1 } });
  });

  it("exit codes: exit3 (adapter) → 1, exit-code (wasi:cli/exit#exit-with-code) → 3, crash → trap", async () => {
    const { runtime, io } = await open();
    expect((await run(runtime, io, "p:exit3")).exit).toMatchObject({ error: { kind: "exit", code: 1, message: "exited with status 1" } });
    expect((await run(runtime, io, "p:exit_code")).exit).toMatchObject({ error: { kind: "exit", code: 3, message: "exited with status 3" } });
    expect((await run(runtime, io, "p:crash")).exit).toMatchObject({ error: { kind: "trap" } });
  });

  it("a guest importing an interface its entry does not grant is refused at spawn", async () => {
    const { runtime, io } = await open();
    const r = await run(runtime, io, "p:hello_nofs");
    expect(r.exit).toMatchObject({ error: { kind: "spawn", message: expect.stringMatching(/p:hello_nofs.*wasi:filesystem/) } });
    expect(r.stdout + r.stderr).toBe("");
  });

  it("sleeper sleeps on a real timer", async () => {
    const { runtime, io } = await open();
    const t0 = performance.now();
    const r = await run(runtime, io, "p:sleeper", "150");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    expect(r.exit).toMatchObject({ value: 0 });
    expect(r.stdout).toBe("slept\n");
  });

  it("cat copies stdin to stdout", async () => {
    const chunks = ["line one\n", "line two\n"];
    const enc = new TextEncoder();
    const { runtime, io } = await open({ stdio: { stdin: async () => { const c = chunks.shift(); return c === undefined ? null : enc.encode(c); } } } as Partial<RuntimeOptions>);
    const r = await run(runtime, io, "p:cat");
    expect(r.exit).toMatchObject({ value: 0 });
    expect(r.stdout).toBe("line one\nline two\n");
  });
});

describe("suspension: a waiting guest holds up nobody", () => {
  it("200 components sleeping 1 s run concurrently while a timer ticks", async () => {
    const { runtime, io } = await open();
    await run(runtime, io, "p:sleeper", "1"); // warm the transpile cache
    const N = 200;
    // Each tick looks at how many of them are asleep at that moment. (Starting a component is
    // CPU-bound, and starts take turns so that a burst does not hold the loop: the sleep is
    // long enough for many to be asleep at once even so. That they tick, and that many guests
    // sleep at once, is the point.)
    let ticks = 0;
    let asleep = 0;
    const timer = setInterval(() => {
      ticks++;
      asleep = Math.max(asleep, runtime.processes().filter((p) => p.state === "suspended").length);
    }, 5);
    const t0 = performance.now();
    const pids = await Promise.all(Array.from({ length: N }, () => runtime.process.spawnMonitored("p:sleeper", "p:hosts", "1000")));
    const exits = [];
    for (let i = 0; i < N; i++) exits.push(await runtime.process.receive(30_000));
    const wall = performance.now() - t0;
    clearInterval(timer);
    console.log(`p2: ${N} sleepers × 1 s: ${wall.toFixed(0)} ms wall; a 5 ms interval ticked ${ticks} times; up to ${asleep} asleep at once`);
    expect(exits.every((e) => e && "value" in e && e.value === 0)).toBe(true);
    expect(new Set(exits.map((e) => e?.from))).toEqual(new Set(pids));
    expect(pids.every((pid) => io.stdout(pid) === "slept\n")).toBe(true);
    expect(wall).toBeLessThan((N * 1000) / 4);
    expect(ticks).toBeGreaterThanOrEqual(1);
    expect(asleep).toBeGreaterThanOrEqual(N / 4);
  });

  it("a component blocked reading stdin that never ends does not hold up another", async () => {
    const never = () => new Promise<Uint8Array | null>(() => {});
    const { runtime, io } = await open({ stdio: { stdin: never } } as Partial<RuntimeOptions>);
    const cat = await runtime.process.spawnMonitored("p:cat", "p:hosts");
    const r = await run(runtime, io, "p:sleeper", "20");
    expect(r.exit).toMatchObject({ from: r.pid, value: 0 });
    expect(runtime.processes().map((p) => p.pid)).toEqual([cat]);
    // Killed while suspended: it ends at once with one EXIT, and the stdin wait is dropped.
    runtime.process.terminate(cat);
    expect(await runtime.process.receive(30_000)).toMatchObject({ from: cat, error: { kind: "killed" } });
    expect(await runtime.process.receive(50)).toBeNull();
  });

  it("a cancelled sleeper ends at its wait, without waiting out the sleep", async () => {
    const { runtime, io } = await open();
    const pid = await runtime.process.spawnMonitored("p:sleeper", "p:hosts", "60000");
    while (runtime.processes()[0]?.state !== "suspended") await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    runtime.process.cancel(pid, "stop");
    expect(await runtime.process.receive(30_000)).toMatchObject({ from: pid, error: { kind: "cancelled", message: "stop" } });
    expect(performance.now() - t0).toBeLessThan(500);
    // The guest unwound at its wait instead of running on.
    await new Promise((r) => setTimeout(r, 50));
    expect(io.stdout(pid)).toBe("");
  });

  it("the machine goes stepping → suspended → stepping around each wait", async () => {
    const states: string[] = [];
    const { runtime, io } = await open({
      inspect: (ev) => {
        if (ev.type === "@xstate.snapshot" && (ev.actorRef as unknown as { id: string }).id.startsWith("{p:hosts")) {
          { const v = String((ev.snapshot as unknown as { value: unknown }).value); if (states.at(-1) !== v) states.push(v); } // LOADED stays in init
        }
      },
    });
    const r = await run(runtime, io, "p:sleeper", "30");
    expect(r.exit).toMatchObject({ value: 0 });
    expect(states[0]).toBe("init");
    expect(states.at(-1)).toBe("closed");
    const middle = states.slice(1, -1).join(" ");
    expect(middle).toMatch(/^stepping( suspended stepping)+$/);
  });
});

const FS_YAML = `
namespace: f
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: data, kind: fs.directory, directory: ./data }
  - { name: out, kind: fs.directory, directory: ./out, auto_init: true }
  - { name: hosts, kind: process.host }
  - name: files
    kind: process.wasm
    fs: bin
    path: /files.wasm
    hash: "{{hash:wasm/files.wasm}}"
    method: wasi:cli/run#run
    imports: ${CLI}
    wasi:
      mounts:
        - { fs: data, guest: /data, read_only: true }
        - { fs: out, guest: /output }
  - name: processor
    kind: process.wasm
    fs: bin
    path: /processor.wasm
    hash: "{{hash:wasm/processor.wasm}}"
    method: wasi:cli/run#run
    imports: ${CLI}
    wasi:
      args: [--input, /data/input.csv]
      mounts:
        - { fs: data, guest: /data, read_only: true }
        - { fs: out, guest: /output }
  - { name: files_nomounts, kind: process.wasm, fs: bin, path: /files.wasm, hash: "{{hash:wasm/files.wasm}}", method: wasi:cli/run#run, imports: ${CLI} }
`;

async function openFs() {
  const project = makeProject(FS_YAML, { "wasm/files.wasm": "c/files.wasm", "wasm/processor.wasm": "c/processor.wasm" }, {
    "data/input.csv": "name,value\na,10\nb,20.5\n\nc,30\n",
    "data/sub/note.txt": "a note",
    "secret.txt": "outside every mount",
  });
  symlinkSync("../secret.txt", project.path("data/escape"));
  symlinkSync("/etc/hostname", project.path("data/absolute"));
  symlinkSync("sub/note.txt", project.path("data/inside"));
  const io = captureStdio();
  const runtime = await Runtime.open({ root: project.root, cacheDir, env: {}, stdio: io.stdio });
  opened.push(runtime);
  const files = (...args: string[]) => run(runtime, io, "f:files", ...args);
  return { runtime, project, io, files };
}

describe("filesystem", () => {
  it("files: read, ls and write under the mounts", async () => {
    const { project, files } = await openFs();
    expect(await files("read", "/data/sub/note.txt")).toMatchObject({ exit: { value: 0 }, stdout: "a note" });
    expect(await files("read", "/data/inside")).toMatchObject({ stdout: "a note" });
    expect((await files("ls", "/data")).stdout).toBe("absolute\nescape\ninput.csv\ninside\nsub\n");
    expect(await files("write", "/output/new.txt", "written")).toMatchObject({ exit: { value: 0 }, stderr: "" });
    expect(readFileSync(project.path("out/new.txt"), "utf8")).toBe("written");
    expect(await files("write", "/output/new.txt", "again")).toMatchObject({ exit: { value: 0 } });
    expect(readFileSync(project.path("out/new.txt"), "utf8")).toBe("again");
    expect((await files("ls", "/output")).stdout).toBe("new.txt\n");
    expect(await files("read", "/output/absent")).toMatchObject({ exit: { error: { code: 1 } }, stderr: "files: read /output/absent: No such file or directory\n" });
  });

  it("a read-only mount refuses writes inside the guest and the disk is unchanged", async () => {
    const { project, files } = await openFs();
    const r = await files("write", "/data/input.csv", "clobbered");
    expect(r.exit).toMatchObject({ error: { kind: "exit", code: 1 } });
    expect(r.stderr).toBe("files: write /data/input.csv: Read-only file system\n");
    expect(readFileSync(project.path("data/input.csv"), "utf8")).toBe("name,value\na,10\nb,20.5\n\nc,30\n");
    expect((await files("write", "/data/created.txt", "x")).stderr).toMatch(/Read-only file system/);
    expect(existsSync(project.path("data/created.txt"))).toBe(false);
  });

  it("paths never escape their mount: .., symlinks out, absolute symlinks", async () => {
    const { files } = await openFs();
    for (const path of ["/data/../secret.txt", "/data/escape", "/data/absolute", "/data/sub/../../secret.txt"]) {
      const r = await files("read", path);
      expect(r.exit, path).toMatchObject({ error: { code: 1 } });
      expect(r.stdout, path).toBe("");
      expect(r.stderr, path).toBe(`files: read ${path}: Operation not permitted\n`);
    }
    expect((await files("ls", "/")).exit).toMatchObject({ error: { code: 1 } });
  });

  it("without mounts nothing is visible", async () => {
    const { runtime, io } = await openFs();
    const r = await run(runtime, io, "f:files_nomounts", "read", "/data/input.csv");
    expect(r.exit).toMatchObject({ error: { code: 1 } });
    expect(r.stderr).toBe("files: read /data/input.csv: Capabilities insufficient\n");
  });

  it("processor: reads /data/input.csv from a read-only mount, writes /output/result.txt", async () => {
    const { runtime, io, project } = await openFs();
    const r = await run(runtime, io, "f:processor");
    expect(r.exit).toMatchObject({ value: 0 });
    expect(r.stdout).toBe("rows=3 sum=60.5\n");
    expect(readFileSync(project.path("out/result.txt"), "utf8")).toBe("rows=3 sum=60.5\n");
  });
});

// ---- the host surface, called directly ----

const ALL_GROUPS = ["wasi:cli", "wasi:io", "wasi:clocks", "wasi:filesystem", "wasi:random", "wasi:http"];
const ALL_INTERFACES = [
  "wasi:io/error", "wasi:io/poll", "wasi:io/streams",
  "wasi:clocks/monotonic-clock", "wasi:clocks/wall-clock",
  "wasi:cli/environment", "wasi:cli/exit", "wasi:cli/stdin", "wasi:cli/stdout", "wasi:cli/stderr",
  "wasi:cli/terminal-input", "wasi:cli/terminal-output", "wasi:cli/terminal-stdin", "wasi:cli/terminal-stdout", "wasi:cli/terminal-stderr",
  "wasi:random/random", "wasi:random/insecure", "wasi:random/insecure-seed",
  "wasi:filesystem/types", "wasi:filesystem/preopens",
  "wasi:http/types", "wasi:http/outgoing-handler",
];

type Obj = Record<string, unknown>;
function host(opts: { granted?: string[]; env?: Record<string, string>; argv?: string[]; cwd?: string; mounts?: ProcessIO["mounts"]; stdin?: ProcessIO["stdin"]; stdout?: ProcessIO["stdout"]; http?: WasmEntry["http"] } = {}) {
  const log: string[] = [];
  const abort = new AbortController();
  const io: ProcessIO = {
    entry: { id: "t:x", imports: opts.granted ?? ALL_GROUPS, ...(opts.http ? { http: opts.http } : {}) } as unknown as WasmEntry,
    argv: opts.argv ?? ["x"],
    budget: new Budget({}),
    onPreempt: () => {},
    env: opts.env ?? {},
    mounts: opts.mounts ?? [],
    stdout: opts.stdout ?? (() => {}),
    stderr: () => {},
    onSuspend: () => void log.push("suspend"),
    onResume: () => {
      log.push("resume");
      if (abort.signal.aborted) throw new Error("process ended");
    },
    signal: abort.signal,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
  };
  const imports = createP2Imports(io, ALL_INTERFACES) as Record<string, Obj>;
  // The WIT surface as jco calls it: untyped on purpose.
  const get = (iface: string): any => imports[iface];
  return { imports, get, log, abort };
}

describe("the P2 host surface", () => {
  it("provides only the granted groups, under versioned and unversioned names", () => {
    const { imports } = host({ granted: ["wasi:cli", "wasi:io"] });
    expect(Object.keys(imports).sort()).toEqual(ALL_INTERFACES.filter((i) => i.startsWith("wasi:cli/") || i.startsWith("wasi:io/")).sort());
    const io: ProcessIO = { ...({} as ProcessIO), entry: { imports: ["wasi:io"] } as unknown as WasmEntry, onSuspend() {}, onResume() {} };
    expect(Object.keys(createP2Imports(io, ["wasi:io/poll@0.2.12", "wasi:random/random@0.2.12"]))).toEqual(["wasi:io/poll@0.2.12", "wasi:io/poll"]);
  });

  it("stdout over a slow sink: check-write shrinks, a write past it fails, subscribe and blocking writes wait for room", async () => {
    const taken: (() => void)[] = [];
    const { get, log } = host({ stdout: () => new Promise<void>((resolve) => taken.push(resolve)) });
    const out = get("wasi:cli/stdout").getStdout();
    expect(out.checkWrite()).toBe(65536n);
    out.write(new Uint8Array(60_000));
    expect(out.checkWrite()).toBe(5536n);
    // past what check-write allowed: an error for the guest, not an unbounded queue in the host
    expect(() => out.write(new Uint8Array(10_000))).toThrow();
    out.write(new Uint8Array(5536));
    const pollable = out.subscribe();
    expect(pollable.ready()).toBe(false);
    const room = pollable.block();
    // the sink is called one chunk at a time: the second waits for the first
    expect(taken).toHaveLength(1);
    taken.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(taken).toHaveLength(1);
    taken.shift()!();
    await room;
    expect(out.checkWrite()).toBe(65536n);
    const written = out.blockingWriteAndFlush(new Uint8Array(10));
    await new Promise((r) => setImmediate(r));
    expect(log.at(-1)).toBe("suspend"); // the guest waits until the sink takes it
    taken.shift()!();
    await written;
    expect(log.at(-1)).toBe("resume");
  });

  it("environment: exactly the process's argv, env and cwd", () => {
    const { get } = host({ argv: ["prog", "a"], env: { ONLY: "this" }, cwd: "/work" });
    const env = get("wasi:cli/environment");
    expect(env.getEnvironment()).toEqual([["ONLY", "this"]]);
    expect(env.getArguments()).toEqual(["prog", "a"]);
    expect(env.initialCwd()).toBe("/work");
    expect(host().get("wasi:cli/environment").initialCwd()).toBeUndefined();
    expect(() => get("wasi:cli/exit").exit({ tag: "err" })).toThrow(expect.objectContaining({ kind: "exit", code: 1 }));
  });

  it("poll: ready indices at once; otherwise one suspended wait; an empty list traps", async () => {
    const { get, log } = host();
    const clock = get("wasi:clocks/monotonic-clock");
    const poll = get("wasi:io/poll").poll as (l: unknown[]) => Promise<Uint32Array>;
    const later = clock.subscribeDuration(30_000_000_000n); // 30 s: never ready during this test, however loaded the machine
    const now = clock.subscribeDuration(0n);
    expect([...(await poll([later, now]))]).toEqual([1]);
    expect(log).toEqual([]);
    const soon = clock.subscribeDuration(20_000_000n);
    const t0 = performance.now();
    expect([...(await poll([later, soon]))]).toEqual([1]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(19);
    expect(log).toEqual(["suspend", "resume"]);
    await expect(poll([])).rejects.toThrow(/empty list/);
  });

  it("a wait gives up at once when the process ends", async () => {
    const { get, abort } = host({ stdin: () => new Promise(() => {}) });
    const stdin = get("wasi:cli/stdin").getStdin();
    const hour = get("wasi:clocks/monotonic-clock").subscribeDuration(3_600_000_000_000n);
    const reading = stdin.blockingRead(10n) as Promise<unknown>;
    const blocking = hour.block() as Promise<unknown>;
    setTimeout(() => abort.abort(), 10);
    await expect(reading).rejects.toThrow(/ended/);
    await expect(blocking).rejects.toThrow(/ended/);
  });

  it("streams: stdin shared by its handles, closed at the end; file streams write in order, append, read back", async () => {
    const chunks = [new TextEncoder().encode("abcdef")];
    const { get } = host({ stdin: async () => chunks.shift() ?? null });
    const a = get("wasi:cli/stdin").getStdin();
    const b = get("wasi:cli/stdin").getStdin();
    expect(new TextDecoder().decode(await a.blockingRead(3n))).toBe("abc");
    expect(new TextDecoder().decode(await b.blockingRead(10n))).toBe("def");
    await expect(a.blockingRead(1n)).rejects.toEqual({ tag: "closed" });

    const dir = mkdtempSync(join(tmpdir(), "wippy-p2-rw-"));
    const fs = host({ mounts: [{ guest: "/rw", host: dir, readOnly: false }] });
    onTestFinished(() => fs.abort.abort()); // the process ends: its files close
    const [[root]] = fs.get("wasi:filesystem/preopens").getDirectories();
    const file = await root.openAt({}, "out.txt", { create: true }, { read: true, write: true });
    const out = file.writeViaStream(0n);
    for (const part of ["one ", "two ", "three"]) out.write(new TextEncoder().encode(part));
    await out.blockingFlush();
    const append = file.appendViaStream();
    await append.blockingWriteAndFlush(new TextEncoder().encode("!"));
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("one two three!");
    const input = file.readViaStream(4n);
    expect(new TextDecoder().decode(await input.blockingRead(100n))).toBe("two three!");
    await expect(input.blockingRead(100n)).rejects.toEqual({ tag: "closed" });
    expect((await file.stat()).size).toBe(14n);
  });

  it("a read-only mount refuses every change before touching the disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wippy-p2-ro-"));
    writeFileSync(join(dir, "f.txt"), "keep");
    const { get, abort } = host({ mounts: [{ guest: "/ro", host: dir, readOnly: true }] });
    onTestFinished(() => abort.abort());
    const [[root, guest]] = get("wasi:filesystem/preopens").getDirectories();
    expect(guest).toBe("/ro");
    expect(root.getFlags()).toEqual({ read: true });
    const codes: unknown[] = [];
    const attempt = async (f: () => Promise<unknown>) => codes.push(await f().then(() => "ok", (e: unknown) => e));
    await attempt(() => root.openAt({}, "f.txt", {}, { read: true, write: true }));
    await attempt(() => root.openAt({}, "new.txt", { create: true }, { read: true }));
    await attempt(() => root.openAt({}, "f.txt", { truncate: true }, { read: true }));
    await attempt(() => root.createDirectoryAt("d"));
    await attempt(() => root.unlinkFileAt("f.txt"));
    await attempt(() => root.renameAt("f.txt", root, "g.txt"));
    await attempt(() => root.symlinkAt("f.txt", "l"));
    await attempt(() => root.setTimesAt({}, "f.txt", { tag: "now" }, { tag: "now" }));
    expect(codes).toEqual(Array(8).fill("read-only"));
    const file = await root.openAt({}, "f.txt", {}, { read: true });
    expect(() => file.writeViaStream(0n)).toThrow("read-only");
    expect(new TextDecoder().decode((await file.read(100n, 0n))[0])).toBe("keep");
    expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("keep");
    expect(existsSync(join(dir, "new.txt"))).toBe(false);
  });

  it("ASYNC_IMPORTS lists exactly the functions that return Promises", () => {
    const { imports } = host();
    const pascal = (s: string) => s.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
    const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    const isAsync = (f: unknown) => typeof f === "function" && f.constructor.name === "AsyncFunction";
    const listed = new Set<string>();
    for (const name of ASYNC_IMPORTS) {
      const [iface, fn] = name.split("#") as [string, string];
      const m = /^\[method\]([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(fn);
      const ifaceObj = imports[iface] as Obj;
      const f = m ? ((ifaceObj[pascal(m[1] as string)] as { prototype: Obj }).prototype[camel(m[2] as string)]) : ifaceObj[camel(fn)];
      expect(isAsync(f) || (iface === "wasi:io/poll" && fn === "poll"), name).toBe(true);
      listed.add(m ? `${iface}#${pascal(m[1] as string)}.${camel(m[2] as string)}` : `${iface}#${camel(fn)}`);
    }
    const found: string[] = [];
    for (const [iface, obj] of Object.entries(imports)) {
      if (iface.includes("@")) continue;
      for (const [key, v] of Object.entries(obj)) {
        if (typeof v !== "function") continue;
        if (isAsync(v)) found.push(`${iface}#${key}`);
        const proto = (v as { prototype?: Obj }).prototype;
        if (!proto || !/^[A-Z]/.test(key)) continue;
        for (const method of Object.getOwnPropertyNames(proto)) {
          if (isAsync(proto[method])) found.push(`${iface}#${key}.${method}`);
        }
      }
    }
    expect(found.filter((f) => !listed.has(f))).toEqual([]);
  });
});

describe("wasi:http outgoing (the host surface, as jco calls it)", () => {
  async function server() {
    const srv = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.setHeader("x-echo-method", req.method ?? "");
        res.setHeader("x-echo-header", String(req.headers["x-test"] ?? ""));
        res.end(`${req.method} ${req.url} ${body}`.repeat(req.url === "/big" ? 10_000 : 1));
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return { srv, authority: `127.0.0.1:${(srv.address() as AddressInfo).port}` };
  }
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  async function readAll(body: any): Promise<string> {
    const stream = body.stream();
    let text = "";
    for (;;) {
      try {
        text += dec.decode(await stream.blockingRead(65536n));
      } catch (e) {
        expect(e).toEqual({ tag: "closed" });
        return text;
      }
    }
  }

  const LOCAL = { allow: ["127.0.0.1"] }; // the test servers listen on loopback, refused by default

  it("GET and POST against a local server; the response body is an input stream", async () => {
    const { srv, authority } = await server();
    try {
      const { get, log } = host({ http: LOCAL });
      const types = get("wasi:http/types");
      const handle = get("wasi:http/outgoing-handler").handle;

      const headers = types.Fields.fromList([["x-test", enc.encode("yes")]]);
      const req = new types.OutgoingRequest(headers);
      req.setAuthority(authority);
      req.setPathWithQuery("/hello?x=1");
      const future = handle(req, undefined);
      expect(future.get()).toBeUndefined();
      await future.subscribe().block();
      expect(log).toEqual(["suspend", "resume"]);
      const res = future.get().val.val;
      expect(res.status()).toBe(200);
      expect(dec.decode(res.headers().get("x-echo-header")[0])).toBe("yes");
      expect(() => res.headers().set("a", [])).toThrow(expect.objectContaining({ tag: "immutable" }));
      expect(await readAll(res.consume())).toBe("GET /hello?x=1 ");

      const post = new types.OutgoingRequest(new types.Fields());
      post.setMethod({ tag: "post" });
      post.setAuthority(authority);
      post.setPathWithQuery("/big");
      const body = post.body();
      const out = body.write();
      const f2 = handle(post, undefined);
      await out.blockingWriteAndFlush(enc.encode("payload"));
      types.OutgoingBody.finish(body, undefined);
      await f2.subscribe().block();
      const r2 = f2.get().val.val;
      const text = await readAll(r2.consume());
      expect(text).toBe("POST /big payload".repeat(10_000));
    } finally {
      srv.close();
    }
  });

  it("errors are error-codes; header rules hold", async () => {
    const { get } = host({ http: LOCAL });
    const types = get("wasi:http/types");
    expect(() => types.Fields.fromList([["bad name", enc.encode("x")]])).toThrow(expect.objectContaining({ tag: "invalid-syntax" }));
    expect(() => new types.Fields().set("Connection", [enc.encode("close")])).toThrow(expect.objectContaining({ tag: "forbidden" }));
    const { srv, authority } = await server();
    await new Promise((r) => srv.close(r)); // nothing listens there now
    const req = new types.OutgoingRequest(new types.Fields());
    req.setAuthority(authority);
    const future = get("wasi:http/outgoing-handler").handle(req, undefined);
    await future.subscribe().block();
    expect(future.get()).toEqual({ tag: "ok", val: { tag: "err", val: { tag: "connection-refused" } } });
    expect(future.get()).toEqual({ tag: "err", val: undefined });
    const noAuthority = new types.OutgoingRequest(new types.Fields());
    expect(() => get("wasi:http/outgoing-handler").handle(noAuthority, undefined)).toThrow(expect.objectContaining({ tag: "HTTP-request-URI-invalid" }));
  });

  /** A server on 127.0.0.1 that counts the requests it sees; `/redirect` sends elsewhere. */
  async function countingServer(location = "") {
    const seen: string[] = [];
    const srv = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === "/redirect") res.writeHead(302, { location }).end();
      else res.end("hello");
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    onTestFinished(() => void srv.close());
    return { seen, port: (srv.address() as AddressInfo).port };
  }

  /** Sends a request through the host as a guest would; the settled future's value. */
  async function send(get: (iface: string) => any, authority: string, opts: { path?: string; body?: string } = {}) {
    const types = get("wasi:http/types");
    const req = new types.OutgoingRequest(new types.Fields());
    req.setAuthority(authority);
    if (opts.path) req.setPathWithQuery(opts.path);
    let body;
    if (opts.body !== undefined) {
      req.setMethod({ tag: "post" });
      body = req.body();
    }
    const future = get("wasi:http/outgoing-handler").handle(req, undefined);
    if (body) {
      await body.write().blockingWriteAndFlush(enc.encode(opts.body));
      types.OutgoingBody.finish(body, undefined);
    }
    await future.subscribe().block();
    return future.get().val;
  }

  it("http.allow: loopback is refused without allow, and nothing reaches the server", async () => {
    const { seen, port } = await countingServer();
    const { get } = host();
    for (const authority of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `[::ffff:127.0.0.1]:${port}`, `0x7f.1:${port}`, `0.0.0.0:${port}`]) {
      const result = await send(get, authority, { body: "secret" });
      expect(result, authority).toEqual({
        tag: "err",
        val: { tag: "internal-error", val: expect.stringMatching(/^wippy: request to \S+ refused: .*(loopback|'this network').*\(http\.allow of t:x\)$/) },
      });
    }
    expect((await send(get, `127.0.0.1:${port}`)).val.val).toBe(`wippy: request to 127.0.0.1:${port} refused: 127.0.0.1 is a loopback address, refused unless http.allow lists it (an IP or CIDR, or localhost) (http.allow of t:x)`);
    expect(seen).toEqual([]);
  });

  it("http.allow: a listed address or localhost reaches the local server; an unlisted port does not", async () => {
    const { seen, port } = await countingServer();
    const status = async (allow: string[], authority: string) => {
      const result = await send(host({ http: { allow } }).get, authority, { path: `/${allow.join(",")}` });
      return result.tag === "ok" ? result.val.status() : result.val.val;
    };
    expect(await status(["127.0.0.1"], `127.0.0.1:${port}`)).toBe(200);
    expect(await status([`127.0.0.1:${port}`], `127.0.0.1:${port}`)).toBe(200);
    expect(await status(["127.0.0.0/8"], `127.0.0.1:${port}`)).toBe(200);
    expect(await status(["localhost"], `localhost:${port}`)).toBe(200);
    expect(await status(["localhost"], `127.0.0.1:${port}`)).toBe(200);
    expect(seen).toEqual(["GET /127.0.0.1", `GET /127.0.0.1:${port}`, "GET /127.0.0.0/8", "GET /localhost", "GET /localhost"]);
    expect(await status([`127.0.0.1:${port + 1}`], `127.0.0.1:${port}`)).toMatch(`127.0.0.1:${port} is not in http.allow`);
    expect(await status(["example.com"], `localhost:${port}`)).toMatch(`localhost:${port} is not in http.allow`);
    expect(seen).toHaveLength(5);
  });

  it("http.allow: the host does not follow redirects; the guest's next request is checked again", async () => {
    const target = await countingServer();
    const first = await countingServer(`http://127.0.0.1:${target.port}/`);
    const { get } = host({ http: { allow: [`127.0.0.1:${first.port}`] } });
    const result = await send(get, `127.0.0.1:${first.port}`, { path: "/redirect" });
    expect(result.val.status()).toBe(302);
    expect(result.val.headers().get("location").map((v: Uint8Array) => dec.decode(v))).toEqual([`http://127.0.0.1:${target.port}/`]);
    expect((await send(get, `127.0.0.1:${target.port}`)).val.val).toMatch(`127.0.0.1:${target.port} is not in http.allow`);
    expect(first.seen).toEqual(["GET /redirect"]);
    expect(target.seen).toEqual([]);
  });
});

describe("wasi:http outgoing from a real guest", () => {
  // A JS component built on the spot with componentize-js (StarlingMonkey): its `fetch`
  // is wasi:http/outgoing-handler plus wasi:io polling, so this runs the whole path.
  // (componentize-js builds a StarlingMonkey component first; on worker threads each worker loads it too)
  it("fetch() from 20 components at once against a slow local server overlaps", { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "wippy-p2-fetch-"));
    writeFileSync(join(dir, "app.js"), "export async function fetchText(url) { const r = await fetch(url); return `status=${r.status} body=${await r.text()}`; }\n");
    writeFileSync(join(dir, "world.wit"), "package local:fetcher;\nworld fetcher { export fetch-text: func(url: string) -> string; }\n");
    // componentize-js reads its inputs through preview2-shim's filesystem, which is closed until given preopens.
    const { _setPreopens } = await import("@bytecodealliance/preview2-shim/filesystem");
    (_setPreopens as (p: Record<string, string>) => void)({ [dir]: dir });
    const { componentize } = await import("@bytecodealliance/componentize-js");
    const { component } = await componentize({ sourcePath: join(dir, "app.js"), witPath: join(dir, "world.wit"), worldName: "fetcher" });
    const hash = `sha256:${createHash("sha256").update(component).digest("hex")}`;
    const seen: string[] = [];
    // Counts requests open at once: overlapping fetches show as more than one in flight.
    let inFlight = 0;
    let maxInFlight = 0;
    const srv = createServer((req, res) => {
      seen.push(req.url ?? "");
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      // long enough that starts spread over a busy machine (or over worker threads) still overlap
      setTimeout(() => (inFlight--, res.end(`hi ${req.url}`)), 1000);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    // Redirects to `srv`: a guest allowed only this server's port must not get there.
    const redirector = createServer((_req, res) => res.writeHead(302, { location: `${base}/redirected` }).end());
    await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
    const redirectPort = (redirector.address() as AddressInfo).port;
    const grants = "imports: [wasi:cli, wasi:io, wasi:clocks, wasi:random, wasi:filesystem, wasi:http]";
    const project = makeProject(
      `namespace: h
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: fetch, kind: process.wasm, fs: bin, path: /fetcher.wasm, hash: "${hash}", method: fetch-text, ${grants}, http: { allow: [127.0.0.1] } }
  - { name: public, kind: process.wasm, fs: bin, path: /fetcher.wasm, hash: "${hash}", method: fetch-text, ${grants} }
  - { name: one_port, kind: process.wasm, fs: bin, path: /fetcher.wasm, hash: "${hash}", method: fetch-text, ${grants}, http: { allow: ["127.0.0.1:${redirectPort}"] } }
  - { name: nohttp, kind: process.wasm, fs: bin, path: /fetcher.wasm, hash: "${hash}", method: fetch-text, imports: [wasi:cli, wasi:io, wasi:clocks, wasi:random, wasi:filesystem] }
`,
    );
    mkdirSync(project.path("wasm"));
    writeFileSync(project.path("wasm/fetcher.wasm"), component);
    try {
      const rt = await Runtime.open({ root: project.root, cacheDir, stdio: captureStdio().stdio });
      opened.push(rt);
      expect(await rt.process.exec("h:fetch", "h:hosts", `${base}/one`)).toEqual({ value: "status=200 body=hi /one" });
      expect(await rt.process.exec("h:nohttp", "h:hosts", `${base}/one`)).toMatchObject({ error: { kind: "spawn", message: expect.stringMatching(/h:nohttp.*wasi:http/) } });
      // Without http.allow a guest reaches public addresses only: the fetch fails inside it.
      expect(await rt.process.exec("h:public", "h:hosts", `${base}/refused`)).toMatchObject({ error: { kind: "trap" } });
      // The host hands a redirect to the guest (this guest's fetch does not follow it);
      // a guest that follows makes a new request, checked like any other.
      expect(await rt.process.exec("h:one_port", "h:hosts", `http://127.0.0.1:${redirectPort}/`)).toEqual({ value: "status=302 body=" });
      expect(seen).toEqual(["/one"]);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => rt.process.exec("h:fetch", "h:hosts", `${base}/${i}`)));
      const wall = performance.now() - t0;
      clearInterval(timer);
      console.log(`p2: 20 fetches of a 200 ms response: ${wall.toFixed(0)} ms wall, ${ticks} ticks`);
      expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ value: `status=200 body=hi /${i}` })));
      // overlap, counted rather than timed: several requests were open at the server at once
      expect(maxInFlight).toBeGreaterThanOrEqual(5);
      expect(ticks).toBeGreaterThanOrEqual(1);
    } finally {
      srv.close();
      redirector.close();
    }
  });
});
