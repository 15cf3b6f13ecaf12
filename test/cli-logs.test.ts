// `wippy run` (no command) logs: guest stderr lines and lifecycle lines tagged with
// pid and entry; terminal.host hide_logs keeps the lifecycle lines out.

import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeProject, REPO } from "./helpers/project.ts";

const yaml = (hideLogs: boolean) => `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: terminal, kind: terminal.host, hide_logs: ${hideLogs} }
  - { name: files, kind: process.wasm, fs: bin, path: /files.wasm, hash: "{{hash:wasm/files.wasm}}", method: _start, imports: [wasi:cli, wasi:io, wasi:clocks, wasi:filesystem], wasi: { args: [write, /nowhere/x, y] } }
  - { name: writer, kind: process.service, process: files, host: hosts, lifecycle: { restart: { policy: temporary } } }
  - { name: root, kind: process.supervisor, children: [writer], lifecycle: { auto_start: true } }
`;

/** Runs `wippy run` until `done` matches stderr, then SIGINT; resolves with all of stderr. */
function run(root: string, done: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "bin", "wippy.js"), "run"], {
      cwd: root,
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-logs-cache-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let signalled = false;
    const stop = () => {
      if (!signalled) child.kill("SIGINT"); // once: a second Ctrl-C would end it at once
      signalled = true;
    };
    const timer = setTimeout(stop, 20_000);
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (done.test(stderr)) stop();
    });
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(stderr);
    });
  });
}

const PID = String.raw`\{t:hosts\|[0-9A-Za-z]+\}`;

describe("wippy run logs", () => {
  it("tags the guest's stderr lines and the lifecycle lines with pid and entry", { timeout: 60_000 }, async () => {
    const project = makeProject(yaml(false), { "wasm/files.wasm": "c/files.core.wasm" });
    const stderr = await run(project.root, /\] files: write/);
    const lines = stderr.trim().split("\n");
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[${PID} t:files\\] files: write /nowhere/x: Capabilities insufficient$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^wippy: start ${PID} t:writer \\[t:root\\]$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^wippy: exit ${PID} t:writer: exit: exited with status 1; not restarted`)));
    expect(lines.at(-1)).toBe("wippy: stopped");
  });

  it("terminal.host hide_logs: true keeps the lifecycle lines out, the guest's own lines in", { timeout: 60_000 }, async () => {
    const project = makeProject(yaml(true), { "wasm/files.wasm": "c/files.core.wasm" });
    const stderr = await run(project.root, /\] files: write/);
    expect(stderr).toMatch(new RegExp(`\\[${PID} t:files\\] files: write /nowhere/x: Capabilities insufficient\\n`));
    expect(stderr).not.toMatch(/wippy: (start|exit|restart|stop) /);
  });
});
