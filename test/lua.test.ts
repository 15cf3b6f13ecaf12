// process.lua entries: Lua 5.4 on WASI (build/lua/lua.wasm, `npm run build:lua`) run as
// WASM guests of kind "lua", with the process and time modules over wippy:process.

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fromProcess, type Runtime, type SupervisionEvent } from "../src/index.ts";
import { luaBinaryPath } from "../src/lua/lua-process.ts";
import { exitOf } from "./helpers/guests.ts";
import { REPO, useRuntimes, withoutPrepareNotice } from "./helpers/project.ts";

beforeAll(() => {
  // CI builds it first (.ci/run); a missing interpreter fails every test here, it never skips them
  if (!luaBinaryPath()) throw new Error("build/lua/lua.wasm is missing: run npm run build:lua");
});

const open = useRuntimes("lua");
const HOST = "app:host";

/** A project: a compute worker, a host, and the given process.lua entries (YAML list items). */
async function lua(entries: string, hostExtra = ""): Promise<Runtime> {
  const yaml = `namespace: app
entries:
  - { name: host, kind: process.host, host: { max_processes: 2000 }${hostExtra} }
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: compute_worker, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
${entries}`;
  return (await open(yaml, { "wasm/compute.wasm": "core/compute.wasm" })).runtime;
}

async function run(rt: Runtime, id: string, ...args: unknown[]) {
  const pid = await rt.process.spawnMonitored(id, HOST, ...args);
  return exitOf(rt.process, pid);
}

const SEED = `local process = require("process")
      local time = require("time")
      local pid, err = process.spawn_monitored("myns:compute_worker", "myns:processes", 6, 7)
      if err then error("spawn failed: " .. tostring(err)) end
      local event = process.receive(time.seconds(10))
      if event and event.type == "EXIT" then local result = event.value end
      return event and event.value`;

describe("process.lua", () => {
  it("runs the seed's snippet verbatim: compute_worker(6, 7) spawned monitored, its EXIT value returned (42)", async () => {
    const rt = (await open(`namespace: myns
entries:
  - { name: processes, kind: process.host }
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: compute_worker, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
  - name: seed
    kind: process.lua
    modules: [process, time]
    process: { spawn: [myns:compute_worker] }
    source: |
      ${SEED}
`, { "wasm/compute.wasm": "core/compute.wasm" })).runtime;
    const pid = await rt.process.spawnMonitored("myns:seed", "myns:processes");
    expect(rt.processes().find((p) => p.pid === pid)?.kind).toBe("lua");
    expect(await exitOf(rt.process, pid)).toEqual({ value: 42 });
  });

  it("examples/lua: wippy run seed-lua prints 42; wippy run lua-ping-pong 300: a C guest and a Lua ponger exchange 300 messages", () => {
    const root = mkdtempSync(join(tmpdir(), "wippy-example-lua-"));
    cpSync(join(REPO, "examples", "lua"), root, { recursive: true });
    const cache = mkdtempSync(join(tmpdir(), "wippy-cli-cache-"));
    const wippy = (...args: string[]) => {
      const r = spawnSync(process.execPath, [join(REPO, "bin", "wippy.js"), "run", ...args], {
        cwd: root, encoding: "utf8", input: "", timeout: 60_000, env: { ...process.env, WIPPY_CACHE_DIR: cache },
      });
      return { code: r.status, stdout: r.stdout, stderr: withoutPrepareNotice(r.stderr) };
    };
    expect(wippy("seed-lua")).toEqual({ code: 0, stdout: "42\n", stderr: "" });
    expect(wippy("lua-ping-pong", "300")).toEqual({ code: 0, stdout: "300\n", stderr: "" });
  });

  it("restarts a Lua worker that fails under a YAML supervisor; each exit carries Lua's error", async () => {
    const events: SupervisionEvent[] = [];
    const rt = await lua(`  - name: crasher
    kind: process.lua
    source: error("crashed on purpose")
  - name: svc
    kind: process.service
    process: crasher
    host: host
    lifecycle: { restart: { initial_delay: 10ms, max_delay: 10ms } }
`);
    rt.onSupervisorEvent((e) => events.push(e));
    rt.startSupervisor({ id: "t", intensity: 100, period: 60_000, children: ["app:svc"] });
    for (let tries = 0; tries < 400 && events.filter((e) => e.type === "child.started").length < 3; tries++) await new Promise((r) => setTimeout(r, 25));
    const starts = events.filter((e) => e.type === "child.started");
    expect(starts.length).toBeGreaterThanOrEqual(3);
    const exits = events.filter((e) => e.type === "child.exited");
    expect(exits[0]).toMatchObject({ outcome: "restart", result: { error: { kind: "error", message: expect.stringMatching(/^app:crasher:1: crashed on purpose\nstack traceback:/) } } });
  });

  it("ends a Lua error with an EXIT of kind error carrying Lua's message and traceback", async () => {
    const rt = await lua(`  - name: fails
    kind: process.lua
    source: |
      local function check(n)
        if n > 1 then error("too big: " .. n) end
      end
      check(...)
`);
    const result = await run(rt, "app:fails", 5);
    expect(result).toEqual({ error: { kind: "error", message: expect.stringMatching(/^app:fails:2: too big: 5\nstack traceback:\n/) } });
    const message = (result as { error: { message: string } }).error.message;
    expect(message).toContain("in local 'check'");
    expect(message).toContain("app:fails:4: in main chunk");
  });

  it("gives the chunk the spawn arguments and returns tables and strings as JSON values; a method gets them instead", async () => {
    const rt = await lua(`  - name: echo
    kind: process.lua
    source: |
      local a, b, t = ...
      return { sum = a + b, name = t.name, list = { t.list[2], t.list[1] }, float = 0.5, yes = true }
  - name: with_method
    kind: process.lua
    method: main
    source: |
      local M = {}
      function M.main(who) return "hello, " .. who end
      return M
  - name: no_crossing
    kind: process.lua
    source: return { print }
`);
    expect(await run(rt, "app:echo", 2, 3, { name: "x", list: ["p", "q"] })).toEqual({
      value: { sum: 5, name: "x", list: ["q", "p"], float: 0.5, yes: true },
    });
    expect(await run(rt, "app:with_method", "lua")).toEqual({ value: "hello, lua" });
    expect(await run(rt, "app:no_crossing")).toEqual({ error: { kind: "error", message: "the result cannot cross as JSON: a function (numbers, strings, booleans, nil and tables can)" } });
  });

  it("refuses require of a module the entry does not grant, naming it", async () => {
    const rt = await lua(`  - name: only_time
    kind: process.lua
    modules: [time]
    source: |
      local time = require("time")
      local ok, err = pcall(require, "process")
      return { time = type(time.sleep), ok = ok, err = err }
  - name: nothing
    kind: process.lua
    source: return require("time")
`);
    const granted = await run(rt, "app:only_time");
    expect(granted).toEqual({ value: { time: "function", ok: false, err: expect.stringContaining("module 'process' is not granted to this process: add it to the entry's modules") } });
    const none = await run(rt, "app:nothing");
    expect(none).toEqual({ error: { kind: "error", message: expect.stringContaining("module 'time' is not granted") } });
  });

  it("stops `while true do end` at max_execution_ms and at fuel, with kind limit", async () => {
    const rt = await lua(`  - name: spin_time
    kind: process.lua
    limits: { max_execution_ms: 200 }
    source: while true do end
  - name: spin_fuel
    kind: process.lua
    limits: { fuel: 2000000 }
    source: while true do end
`);
    const byTime = await run(rt, "app:spin_time");
    expect(byTime).toEqual({ error: { kind: "limit", message: expect.stringContaining("max_execution_ms: 200") } });
    const byFuel = await run(rt, "app:spin_fuel");
    expect(byFuel).toEqual({ error: { kind: "limit", message: expect.stringContaining("fuel") } });
  });

  it("keeps 1 000 Lua processes asleep at once while others run, each suspended alone", async () => {
    const rt = await lua(`  - name: sleeper
    kind: process.lua
    modules: [time]
    source: |
      require("time").sleep(...)
      return "woke"
  - name: counter
    kind: process.lua
    source: |
      local n = 0
      for i = 1, 100000 do n = n + i end
      return n
`);
    const sleepers: string[] = [];
    for (let i = 0; i < 1000; i++) sleepers.push(await rt.process.spawnMonitored("app:sleeper", HOST, 600_000));
    // wait until every sleeper has reached its sleep
    for (let tries = 0; tries < 600; tries++) {
      if (rt.processes().filter((p) => p.kind === "lua" && p.state === "suspended").length === 1000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rt.processes().filter((p) => p.kind === "lua" && p.state === "suspended")).toHaveLength(1000);
    // a Lua process and a TypeScript one both run to the end while the 1 000 sleep
    expect(await run(rt, "app:counter")).toEqual({ value: 5000050000 });
    const ts = await rt.process.spawnActor(fromProcess(async () => "ran"), { host: HOST, monitor: true });
    expect(await exitOf(rt.process, ts)).toEqual({ value: "ran" });
    // a sleeper without the process module ends at its wait when cancelled
    for (const pid of sleepers) void rt.cancel(pid, "enough");
    const kinds = await Promise.all(sleepers.map(async (pid) => {
      const r = await exitOf(rt.process, pid);
      return "error" in r ? r.error.kind : "value";
    }));
    expect(new Set(kinds)).toEqual(new Set(["cancelled"]));
  });

  it("reaches files only through wasi.mounts: a read-only mount reads, refuses writes, and nothing else is visible", async () => {
    const { runtime: rt, project } = await open(`namespace: app
entries:
  - { name: host, kind: process.host }
  - { name: data, kind: fs.directory, directory: ./data, auto_init: true }
  - name: reader
    kind: process.lua
    wasi: { mounts: [{ fs: data, guest: /data, read_only: true }] }
    source: |
      local f = assert(io.open("/data/in.txt"))
      local text = f:read("a")
      f:close()
      local w, werr = io.open("/data/out.txt", "w")
      local p, perr = io.open("/etc/passwd")
      local t, terr = pcall(os.tmpname)
      return { text = text, write = w == nil, werr = werr, outside = p == nil, tmpname = t, execute = os.execute() }
`);
    mkdirSync(project.path("data"), { recursive: true });
    writeFileSync(project.path("data/in.txt"), "from the host");
    expect(await run(rt, "app:reader")).toEqual({
      value: { text: "from the host", write: true, werr: expect.stringContaining("/data/out.txt"), outside: true, tmpname: false, execute: false },
    });
    expect(existsSync(project.path("data/out.txt"))).toBe(false);
  });

  it("prints line by line: a sleeping process's output shows before it ends", async () => {
    const { runtime: rt, io } = await open(`namespace: app
entries:
  - { name: host, kind: process.host }
  - name: talker
    kind: process.lua
    modules: [time]
    source: |
      print("first line")
      require("time").sleep(600000)
`);
    const pid = await rt.process.spawnMonitored("app:talker", HOST);
    for (let tries = 0; tries < 400 && io.stdout(pid) === ""; tries++) await new Promise((r) => setTimeout(r, 25));
    expect(io.stdout(pid)).toBe("first line\n");
    // (on a worker thread its state reaches the main thread shortly after its output)
    await expect.poll(() => rt.processes().find((p) => p.pid === pid)?.state).toBe("suspended");
  });
});
