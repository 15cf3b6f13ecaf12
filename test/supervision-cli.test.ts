// `wippy run` with no command in examples/supervision-tree: the tree starts,
// restarts show in the log (one line each, pid and entry), and SIGINT shuts it
// down in reverse start order with exit code 0.

import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/project.ts";

const BIN = join(REPO, "bin", "wippy.js");
const EXAMPLE = join(REPO, "examples", "supervision-tree");
const PID = String.raw`\{app:processes\|[0-9A-Za-z]+\}`;

/** Runs until `restarts` restart lines appeared (at most `ms`; a cold cache makes the start slow), then signals. */
function runFor(ms: number, signal: NodeJS.Signals, restarts = 3): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "run"], {
      cwd: EXAMPLE,
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-cli-cache-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    let signalled = false;
    const stop = () => {
      if (!signalled) child.kill(signal);
      signalled = true;
    };
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (stderr.split("wippy: restart ").length > restarts) setTimeout(stop, 100);
    });
    const timer = setTimeout(stop, ms);
    const hard = setTimeout(() => child.kill("SIGKILL"), ms + 15_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(hard);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("wippy run (no command) in examples/supervision-tree", () => {
  it.each(["SIGINT", "SIGTERM"] as const)("logs restarts and shuts the tree down in order on %s", async (signal) => {
    const r = await runFor(10_000, signal);
    const lines = r.stderr.trim().split("\n");
    expect(r.code, r.stderr).toBe(0);
    expect(lines[0]).toMatch(/^wippy: supervisor \{runtime\|\w+\} app:root started$/);
    const restarts = lines.filter((l) => l.includes("wippy: restart "));
    expect(restarts.length).toBeGreaterThanOrEqual(3);
    for (const l of restarts) expect(l).toMatch(new RegExp(`^wippy: restart ${PID} app:(flaky|ticker) \\(restart \\d+; was ${PID}: (trap: wasm trap: unreachable|normal exit \\(0\\))\\) \\[app:workers\\]$`));
    expect(restarts.some((l) => l.includes("app:flaky"))).toBe(true);
    // Orderly shutdown: the workers' children, then app:workers, then app:steady, then app:root.
    const tail = lines.slice(lines.findIndex((l) => l.includes(`${signal}: stopping the supervision tree`)));
    const order = tail.map((l) => l.replace(/\{[^}]+\}/g, "PID"));
    const at = (re: RegExp) => order.findIndex((l) => re.test(l));
    expect(at(/supervisor PID app:workers stopped/)).toBeGreaterThan(0);
    if (at(/stop PID app:ticker/) >= 0) expect(at(/stop PID app:ticker/)).toBeLessThan(at(/supervisor PID app:workers stopped/));
    expect(at(/supervisor PID app:workers stopped/)).toBeLessThan(at(/stop PID app:steady \(cancelled: runtime closing\)/));
    expect(at(/stop PID app:steady/)).toBeLessThan(at(/supervisor PID app:root stopped/));
    expect(order.at(-1)).toBe("wippy: stopped");
    expect(r.stdout).toMatch(/^(slept\n)*$/); // the ticker's own output only
  }, 30_000);
});
