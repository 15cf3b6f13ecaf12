// examples/http-worker (the seed's http_worker): `wippy run fetch` GETs $API_URL
// through wasi:http from a JS component; many of them wait on a slow server at once.
// The test server listens on 127.0.0.1, which only `fetch-local` (http.allow: localhost)
// may reach.

import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runtime } from "../src/index.ts";
import { captureStdio, REPO } from "./helpers/project.ts";

const EXAMPLE = join(REPO, "examples", "http-worker");
const cacheDir = mkdtempSync(join(tmpdir(), "wippy-http-worker-cache-"));
let server: Server;
let base = "";
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? "");
    const delay = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0);
    setTimeout(() => res.end(`hello from ${req.url}`), delay);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

function withoutApiUrl(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.API_URL;
  return env;
}

function wippy(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "bin", "wippy.js"), ...args], {
      cwd: EXAMPLE,
      env: { ...withoutApiUrl(), WIPPY_CACHE_DIR: cacheDir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("examples/http-worker", () => {
  it("wippy run fetch-local GETs $API_URL and prints what came back", { timeout: 120_000 }, async () => {
    const r = await wippy(["run", "fetch-local"], { API_URL: `${base}/api` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`GET ${base}/api -> 200 OK (15 bytes): hello from /api\n`);
    // the first run transpiles and instruments 12 MB (seconds, well past the 1.5 s notice): the CLI says so
    expect(r.stderr).toBe("wippy: preparing myns:http_worker_local (/http_worker.wasm) for its first run: transpiling and instrumenting; cached by hash after this\n");
    const again = await wippy(["run", "fetch-local"], { API_URL: `${base}/api` });
    expect(again).toEqual({ code: 0, stdout: `GET ${base}/api -> 200 OK (15 bytes): hello from /api\n`, stderr: "" });
    expect(seen).toEqual(["/api", "/api"]);
  });

  it("wippy run fetch (no http.allow) may not reach this machine: the request fails in the guest, nothing is sent", { timeout: 120_000 }, async () => {
    const before = seen.length;
    const r = await wippy(["run", "fetch"], { API_URL: `${base}/private`, WIPPY_LOG: "debug" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const port = new URL(base).port;
    expect(r.stderr).toContain(
      `wippy: request to 127.0.0.1:${port} refused: 127.0.0.1 is a loopback address, refused unless http.allow lists it (an IP or CIDR, or localhost) (http.allow of myns:http_worker)\n`,
    );
    expect(r.stderr).toContain("wippy: myns:http_worker failed (exit): NetworkError when attempting to fetch resource\n");
    expect(seen.length).toBe(before);
  });

  it("a failed request is the guest's own error: an EXIT of kind exit with its message", { timeout: 120_000 }, async () => {
    const r = await wippy(["run", "fetch-local"], { API_URL: "http://127.0.0.1:1/nothing-listens-here" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("wippy: myns:http_worker_local failed (exit): NetworkError when attempting to fetch resource\n");
  });

  it("without API_URL it fails at spawn with one line saying how to fix it", { timeout: 120_000 }, async () => {
    const r = await wippy(["run", "fetch"], {});
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "wippy: myns:http_worker failed (spawn): myns:http_worker: required environment variable API_URL (from myns:api_url) has no value; set the OS variable API_URL or give myns:api_url a default\n",
    );
  });

  it("20 workers waiting on a slow server at once: each is suspended alone, the waits overlap", { timeout: 120_000 }, async () => {
    const rt = await Runtime.open({ root: EXAMPLE, cacheDir, stdio: captureStdio().stdio, env: { API_URL: `${base}/slow?delay=300` } });
    try {
      expect(await rt.process.exec("myns:http_worker_local", "myns:processes")).toMatchObject({ value: expect.stringContaining("-> 200 OK") });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 20 }, () => rt.process.exec("myns:http_worker_local", "myns:processes")));
      const wall = performance.now() - t0;
      clearInterval(timer);
      console.log(`http-worker: 20 GETs of a 300 ms response: ${wall.toFixed(0)} ms wall, ${ticks} ticks`);
      expect(results.every((r) => "value" in r && String(r.value).includes("hello from /slow?delay=300"))).toBe(true);
      expect(wall).toBeLessThan(20 * 300);
      expect(ticks).toBeGreaterThan(5);
    } finally {
      await rt.close();
    }
  });
});
