// require("process") and require("time") inside a Lua process: value, err pairs as in
// Wippy, events as tables, values crossing as JSON to TypeScript and to WASM guests.

import { beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../src/index.ts";
import { luaBinaryPath } from "../src/lua/lua-process.ts";
import { exitOf, message } from "./helpers/guests.ts";
import { useRuntimes } from "./helpers/project.ts";

beforeAll(() => {
  if (!luaBinaryPath()) throw new Error("build/lua/lua.wasm is missing: run npm run build:lua");
});

const open = useRuntimes("lua-api");
const HOST = "app:host";

const YAML = `namespace: app
entries:
  - { name: host, kind: process.host }
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: worker, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
  - { name: trapper, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: trap }
  - name: calls
    kind: process.lua
    modules: [process, time]
    process: { spawn: [app:worker, app:trapper] }
    source: |
      local process = require("process")
      local time = require("time")
      local out = {}
      out.self = process.self()
      local pid, err = process.spawn("app:calls", nil)
      out.refused = { pid = pid, err = err }
      local trap_pid = process.spawn_monitored("app:trapper", "")
      local exit = process.receive(time.seconds(10))
      out.trap = { type = exit.type, same = exit.from == trap_pid, kind = exit.error.kind, text = tostring(exit.error) }
      local w = process.spawn_monitored("app:worker", nil, 20, 21)
      local done = process.receive(10000)
      out.worker = { type = done.type, value = done.value, error = done.error }
      local none, why = process.receive(0)
      out.poll = { none = none, why = why }
      local linked, link_err = process.link("{app:host|nobody}")
      out.link_gone = { linked = linked, err = link_err }
      local before = time.now()
      time.sleep(time.milliseconds(20))
      out.slept = time.now() - before >= 20
      out.seconds = time.seconds(1.5)
      return out
  - name: echo
    kind: process.lua
    modules: [process]
    source: |
      local process = require("process")
      while true do
        local e = process.receive()
        if e.type == "CANCEL" then return "stopped: " .. e.reason end
        if e.type == "MESSAGE" then
          process.send(e.from, "pong", { got = e.payload, topic = e.topic, format = e.format })
        end
      end
  - name: suspended_inside
    kind: process.lua
    modules: [process, time]
    source: |
      local process = require("process")
      local time = require("time")
      -- waits inside a coroutine and inside pcall suspend the whole interpreter, and resume it
      local co = coroutine.wrap(function()
        local e = process.receive()
        coroutine.yield(e.payload)
        time.sleep(5)
        return "slept in a coroutine"
      end)
      local first = co()
      local ok, second = pcall(function() return process.receive(10000).payload end)
      return { first = first, second = second, ok = ok, third = co() }
  - name: parent
    kind: process.lua
    modules: [process]
    process: { spawn: [app:child] }
    source: |
      local process = require("process")
      local pid = assert(process.spawn_linked_monitored("app:child", nil, { 1, 2, 3 }, "x"))
      local e = process.receive(10000)
      return { from_child = e.from == pid, value = e.value }
  - name: child
    kind: process.lua
    source: |
      local list, s = ...
      return { n = #list, s = s .. "!", last = list[3] }
  - name: exits
    kind: process.lua
    source: os.exit(3)
  - name: bad_send
    kind: process.lua
    modules: [process]
    source: |
      local process = require("process")
      local ok, err = pcall(process.send, process.self(), "x", { f = print })
      local _, reserved = process.send(process.self(), "EXIT", 1)
      return { ok = ok, err = err, reserved = reserved }
`;

async function runtime(): Promise<Runtime> {
  return (await open(YAML, { "wasm/compute.wasm": "core/compute.wasm" })).runtime;
}

describe("the Lua process module", () => {
  it("spawns, monitors and receives EXIT tables; refusals are nil and a message; time sleeps and counts in ms", async () => {
    const rt = await runtime();
    const pid = await rt.process.spawnMonitored("app:calls", HOST);
    const result = await exitOf(rt.process, pid);
    expect(result).toEqual({
      value: {
        self: pid,
        refused: { err: expect.stringContaining("app:calls may not spawn app:calls") },
        trap: { type: "EXIT", same: true, kind: "trap", text: expect.stringMatching(/^trap: /) },
        worker: { type: "EXIT", value: 420 },
        poll: { why: "timeout" },
        link_gone: { err: expect.stringContaining("cannot link") },
        slept: true,
        seconds: 1500,
      },
    });
  });

  it("exchanges JSON messages with TypeScript (null in a list leaves a hole: the list comes back an object) and ends on CANCEL with its own value", async () => {
    const rt = await runtime();
    const pid = await rt.process.spawnMonitored("app:echo", HOST);
    await rt.process.send(pid, "ping", { n: 1, list: [true, null, "x"] });
    const reply = await rt.process.receive({ match: message("pong", pid), timeout: 10_000 });
    expect(reply).toMatchObject({ type: "MESSAGE", topic: "pong", payload: { got: { n: 1, list: { 1: true, 3: "x" } }, topic: "ping", format: "json" } });
    await rt.cancel(pid, "enough");
    expect(await exitOf(rt.process, pid)).toEqual({ value: "stopped: enough" });
  });

  it("refuses a value JSON cannot carry with a Lua error, and a reserved topic with nil and a message", async () => {
    const rt = await runtime();
    const pid = await rt.process.spawnMonitored("app:bad_send", HOST);
    expect(await exitOf(rt.process, pid)).toEqual({
      value: { ok: false, err: expect.stringContaining("send: a function cannot cross as JSON"), reserved: expect.stringContaining("EXIT") },
    });
  });

  it("suspends and resumes the interpreter inside a coroutine and a pcall; spawns Lua from Lua with table arguments; os.exit(n) ends with kind exit", async () => {
    const rt = await runtime();
    const pid = await rt.process.spawnMonitored("app:suspended_inside", HOST);
    await rt.process.send(pid, "a", "one");
    await rt.process.send(pid, "b", "two");
    expect(await exitOf(rt.process, pid)).toEqual({ value: { first: "one", second: "two", ok: true, third: "slept in a coroutine" } });
    const parent = await rt.process.spawnMonitored("app:parent", HOST);
    expect(await exitOf(rt.process, parent)).toEqual({ value: { from_child: true, value: { n: 3, s: "x!", last: 3 } } });
    const exits = await rt.process.spawnMonitored("app:exits", HOST);
    expect(await exitOf(rt.process, exits)).toEqual({ error: { kind: "exit", code: 3, message: expect.stringContaining("status 3") } });
  });
});
