// Watching it run (issue 6): the Stately inspector relay receives every actor's
// records, and the observer serves the tree, the processes and the exits, live.

import { get, request, type OutgoingHttpHeaders } from "node:http";
import { describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { Runtime } from "../src/index.ts";
import { startInspector } from "../src/observe/inspector.ts";
import { RuntimeObserver, type Observation } from "../src/observe/model.ts";
import { serveObserver } from "../src/observe/server.ts";
import { behave, openSupervised, sleeper, until } from "./helpers/supervision.ts";

interface Record_ {
  type: string;
  sessionId?: string;
  /** The actor's id (our pid, host or supervisor id), on @xstate.actor records. */
  name?: string;
  event?: { type: string };
  snapshot?: { value?: unknown; status?: string };
}

describe("inspector", () => {
  it("a viewer on the relay gets actor, event and snapshot records of a process from init to closed, and of its host", async () => {
    const relay = await startInspector(0);
    const received: Record_[] = [];
    const viewer = new WebSocket(relay.wsUrl);
    viewer.on("message", (data) => received.push(JSON.parse(data.toString()) as Record_));
    await new Promise((r) => viewer.once("open", r));
    const { runtime: rt } = await openSupervised(undefined, { inspect: relay.inspect });
    try {
      const pid = await rt.process.spawnMonitored("t:behave", "t:hosts", 0);
      expect(await rt.process.receive(5000)).toMatchObject({ type: "EXIT", from: pid, value: 0 });
      // the process actor's records: registered, its events, its snapshots through closed
      const actor = await until(() => received.find((r) => r.type === "@xstate.actor" && r.name === pid), 5000, "the actor record");
      const session = actor.sessionId;
      await until(() => received.some((r) => r.sessionId === session && r.type === "@xstate.snapshot" && r.snapshot?.value === "closed"), 5000, "the closed snapshot");
      const mine = received.filter((r) => r.sessionId === session);
      expect(mine.filter((r) => r.type === "@xstate.event").map((r) => r.event?.type)).toEqual(expect.arrayContaining(["STEP", "CLOSE"]));
      const states = mine.filter((r) => r.type === "@xstate.snapshot").map((r) => r.snapshot?.value);
      expect(states[0]).toBe("init");
      expect(states).toContain("stepping");
      expect(states.at(-1)).toBe("closed");
      // the host is an actor too, and it counted the admission
      expect(received.some((r) => r.type === "@xstate.actor" && r.name === "t:hosts")).toBe(true);
      expect(received.some((r) => r.type === "@xstate.event" && r.event?.type === "ADMIT")).toBe(true);
      // and a supervisor
      const sup = rt.startSupervisor({ id: "seen", children: [behave("ok", 0, { restart: "temporary" })] });
      // its actor is named by its ID, as SPEC 4.5 says (processes by pid)
      await until(() => received.some((r) => r.type === "@xstate.actor" && r.name === sup.id), 5000, "the supervisor's actor record");
    } finally {
      viewer.close();
      await rt.close(100);
      await relay.stop();
    }
  });

  it("the relay's page embeds the Stately inspector and connects to the relay", async () => {
    const relay = await startInspector(0);
    try {
      const html = await fetchText(relay.url);
      expect(html).toContain('src="https://stately.ai/inspect"');
      expect(html).toContain(JSON.stringify(relay.wsUrl));
    } finally {
      await relay.stop();
    }
  });
});

function fetchText(url: string): Promise<string> {
  return fetch(url).then((r) => r.text());
}

/** The first server-sent event whose data satisfies `want`. */
function nextEvent(url: string, want: (o: Observation) => boolean, timeoutMs = 5000): Promise<Observation> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no matching event")), timeoutMs);
    const req = get(url, (res) => {
      let buf = "";
      res.on("data", (c: Buffer) => {
        buf += c.toString();
        let at;
        while ((at = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (!data) continue;
          const o = JSON.parse(data.slice(6)) as Observation;
          if (want(o)) {
            clearTimeout(timer);
            req.destroy();
            resolve(o);
          }
        }
      });
    });
    req.on("error", () => undefined);
  });
}

describe("observer", () => {
  it("the model shows the tree with restart counts, each process's state and memory, and exits with reasons", async () => {
    const { runtime: rt } = await openSupervised();
    const observer = new RuntimeObserver(rt);
    try {
      rt.startSupervisor({ id: "root", children: [sleeper("steady"), behave("flaky", 1, { restart: { initialDelay: 0, maxDelay: 0 } }), { id: "inner", supervisor: { id: "inner", children: [sleeper("deep")] } }], intensity: 100 });
      const o = await until(() => {
        const s = observer.snapshot();
        const flaky = s.trees[0]?.children?.find((c) => c.id === "flaky");
        const steady = s.trees[0]?.children?.find((c) => c.id === "steady");
        return flaky && flaky.restarts >= 2 && steady?.state === "suspended" ? s : undefined;
      }, 5000, "two restarts of flaky");
      const root = o.trees[0]!;
      expect(root).toMatchObject({ id: "root", kind: "supervisor", status: "running" });
      expect(root.children?.map((c) => c.id)).toEqual(["steady", "flaky", "inner"]);
      expect(root.children?.[0]).toMatchObject({ kind: "child", entry: "t:sleeper", state: "suspended" });
      expect(root.children?.[0]?.memory).toBeGreaterThan(0);
      expect(root.children?.[2]).toMatchObject({ kind: "supervisor", children: [expect.objectContaining({ id: "deep" })] });
      expect(o.exits.some((e) => e.entry === "t:behave" && e.kind === "trap" && /unreachable/.test(e.message))).toBe(true);
      expect(o.totals.restarts).toBeGreaterThanOrEqual(2);
      expect(o.totals.suspended).toBeGreaterThanOrEqual(2);
    } finally {
      observer.close();
      await rt.close(100);
    }
  });

  it("serves the page, /state, and pushes a new state over /events when something changes", async () => {
    const { runtime: rt } = await openSupervised();
    const server = await serveObserver(rt, 0);
    try {
      const html = await fetchText(server.url);
      expect(html).toContain("<title>wippy observer</title>");
      expect(html).toContain('new EventSource("/events")');
      const first = JSON.parse(await fetchText(`${server.url}state`)) as Observation;
      expect(first.processes).toEqual([]);
      // pushed, not polled by the page: the state with a running process arrives on the stream
      const pushed = nextEvent(`${server.url}events`, (o) => o.processes.some((p) => p.entry === "t:sleeper"));
      await rt.process.spawnMonitored("t:sleeper", "t:hosts", "60000");
      expect((await pushed).processes[0]).toMatchObject({ entry: "t:sleeper", host: "t:hosts" });
      expect((await fetch(`${server.url}nope`)).status).toBe(404);
    } finally {
      await server.close();
      await rt.close(100);
    }
  });
});

describe("wippy run --inspect", () => {
  it("says where the inspector is; a viewer there gets the tree's actors as they run", { timeout: 60_000 }, async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { REPO } = await import("./helpers/project.ts");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [join(REPO, "bin", "wippy.js"), "run", "--inspect", String(port)], {
      cwd: join(REPO, "examples", "supervision-tree"),
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-inspect-cache-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    try {
      await until(() => stderr.includes("wippy: inspector: open"), 20_000, "the inspector line");
      expect(stderr).toContain(`wippy: inspector: open http://127.0.0.1:${port}/ (the Stately inspector; events stay on ws://127.0.0.1:${port})`);
      const received: Record_[] = [];
      const viewer = new WebSocket(`ws://127.0.0.1:${port}`);
      viewer.on("message", (data) => received.push(JSON.parse(data.toString()) as Record_));
      // the relay keeps the start of the run for a late viewer: the root supervisor and its processes
      await until(() => received.filter((r) => r.type === "@xstate.actor").length >= 4, 20_000, "actor records");
      await until(() => received.some((r) => r.type === "@xstate.snapshot" && r.snapshot?.value === "suspended"), 20_000, "a suspended process");
      viewer.close();
    } finally {
      child.kill("SIGINT");
      await new Promise((r) => child.once("close", r));
    }
    expect(stderr).toContain("wippy: stopped");
  });
});

/** Status and body of a GET with exactly these headers (fetch cannot set Host). */
function getWith(url: string, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves "open", or the HTTP status the server answered instead. */
function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<{ ws: WebSocket; status: "open" | number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => resolve({ ws, status: "open" }));
    ws.once("unexpected-response", (_req, res) => {
      resolve({ ws, status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once("error", reject);
  });
}

/** Resolves once the server has answered a ping: everything it sent before is in `received`. */
function roundTrip(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once("pong", () => resolve());
    ws.ping();
  });
}

/** Lines written to stderr while `body` runs. */
async function stderrOf(body: () => Promise<void>): Promise<string> {
  let text = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  });
  try {
    await body();
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe("who may connect (DNS rebinding, other web pages)", () => {
  it("the inspector relay refuses a foreign Origin and a foreign Host with 403 and a log line; its own pages connect", async () => {
    const relay = await startInspector(0);
    const port = new URL(relay.url).port;
    try {
      const log = await stderrOf(async () => {
        expect((await connect(relay.wsUrl, { origin: "https://evil.example" })).status).toBe(403);
        expect((await connect(relay.wsUrl, { headers: { host: `evil.example:${port}` } })).status).toBe(403);
        expect((await connect(relay.wsUrl, { origin: "null" })).status).toBe(403);
        expect((await getWith(relay.url, { host: `rebound.example:${port}` })).status).toBe(403);
      });
      expect(log).toContain('wippy: inspector: refused a request (Origin "https://evil.example" is not a page of this server); only pages served here may connect\n');
      expect(log).toContain(`wippy: inspector: refused a request (Host "evil.example:${port}" is not 127.0.0.1:${port}, localhost:${port} or [::1]:${port})`);
      expect(log.split("\n").filter(Boolean)).toHaveLength(4);
      for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, undefined]) {
        const { ws, status } = await connect(relay.wsUrl, origin ? { origin } : {});
        expect(status).toBe("open");
        ws.close();
      }
      expect(await getWith(relay.url, { host: `localhost:${port}` })).toMatchObject({ status: 200, body: expect.stringContaining("stately.ai/inspect") });
    } finally {
      await relay.stop();
    }
  });

  it("what a viewer sends reaches no other viewer; the runtime's events still do", async () => {
    const relay = await startInspector(0);
    const { runtime: rt } = await openSupervised(undefined, { inspect: relay.inspect });
    const intruder = (await connect(relay.wsUrl)).ws;
    const watcher = (await connect(relay.wsUrl)).ws;
    const seen: Record_[] = [];
    watcher.on("message", (data) => seen.push(JSON.parse(data.toString()) as Record_));
    try {
      intruder.send(JSON.stringify({ type: "@xstate.snapshot", sessionId: "forged", snapshot: { value: "pwned" } }));
      // the relay has handled the forged message, and anything it relayed has reached the watcher
      await roundTrip(intruder);
      await roundTrip(watcher);
      const pid = await rt.process.spawnMonitored("t:behave", "t:hosts", 0);
      await until(() => seen.find((r) => r.type === "@xstate.actor" && r.name === pid), 5000, "the runtime's actor record");
      expect(seen.some((r) => r.sessionId === "forged")).toBe(false);
    } finally {
      intruder.close();
      watcher.close();
      await rt.close(100);
      await relay.stop();
    }
  });

  it("the observer refuses a foreign Origin and a foreign Host with 403 and a log line; its own page works", async () => {
    const { runtime: rt } = await openSupervised();
    const server = await serveObserver(rt, 0);
    const port = new URL(server.url).port;
    try {
      const log = await stderrOf(async () => {
        expect((await getWith(`${server.url}state`, { origin: "https://evil.example" })).status).toBe(403);
        expect((await getWith(`${server.url}events`, { origin: "http://127.0.0.1:1" })).status).toBe(403);
        expect((await getWith(`${server.url}state`, { host: `rebound.example:${port}` })).status).toBe(403);
      });
      expect(log).toContain('wippy: observer: refused a request (Origin "https://evil.example" is not a page of this server)');
      expect(log).toContain(`wippy: observer: refused a request (Host "rebound.example:${port}" is not 127.0.0.1:${port}`);
      expect((await getWith(`${server.url}state`, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200);
      expect((await getWith(`${server.url}state`, { host: `[::1]:${port}` })).status).toBe(200);
      expect((await getWith(server.url, {})).status).toBe(200);
    } finally {
      await server.close();
      await rt.close(100);
    }
  });
});

describe("ports", () => {
  it("a port in use is one clear line for --observe and --inspect", async () => {
    const { runtime: rt } = await openSupervised();
    const first = await serveObserver(rt, 0);
    const port = Number(new URL(first.url).port);
    try {
      await expect(serveObserver(rt, port)).rejects.toThrow(`port ${port} is in use; pass another: --observe <port>`);
      await expect(startInspector(port)).rejects.toThrow(`port ${port} is in use; pass another: --inspect <port>`);
    } finally {
      await first.close();
      await rt.close(100);
    }
  });
});
