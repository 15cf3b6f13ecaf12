// The CLI under a guest that writes without end (issue 13 item 7): the guest waits for
// a slow reader instead of the CLI buffering its output, and a guest spamming stderr
// without newlines neither starves `wippy run` nor keeps it from stopping on SIGINT.

import { spawn, type ChildProcessByStdio } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { MAX_PENDING_LINE } from "../src/cli/tagged-lines.ts";
import { makeProject, REPO } from "./helpers/project.ts";

const YAML = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: terminal, kind: terminal.host, hide_logs: true }
  - { name: spew, kind: process.wasm, fs: bin, path: /spew.wasm, hash: "{{hash:wasm/spew.wasm}}", method: spew, imports: [wasi:cli] }
`;
// stderr, forever, no newline
const SPAMMER = `
  - { name: spammer, kind: process.service, process: spew, host: hosts, input: [2, 0, 0] }
  - { name: root, kind: process.supervisor, children: [spammer], lifecycle: { auto_start: true } }
`;

/** `stderr`: a file descriptor to write it to instead of a pipe. */
function wippy(root: string, args: string[], stderr?: number): ChildProcessByStdio<null, Readable, Readable> {
  const child = spawn(process.execPath, [join(REPO, "bin", "wippy.js"), ...args], {
    cwd: root,
    env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-output-cache-")) },
    stdio: ["ignore", "pipe", stderr ?? "pipe"],
  }) as ChildProcessByStdio<null, Readable, Readable>;
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}

const closed = (child: ChildProcessByStdio<null, Readable, Readable>) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("close", (code) => resolve(code));
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("CLI output backpressure", () => {
  it("wippy run -x: a guest writing to a pipe read slowly stays a bounded distance ahead of the reader", { timeout: 120_000 }, async () => {
    const project = makeProject(YAML, { "wasm/spew.wasm": "core/spew.wasm" });
    // stderr goes to a file, which Node writes synchronously: its "."s count the guest's blocks as it writes them
    const ticks = project.path("ticks.txt");
    const stderr = openSync(ticks, "w");
    // 64 MiB to stdout in 4 KiB blocks, one "." per block on stderr
    const child = wippy(project.root, ["run", "-x", "t:spew", "1", "16384", "2"], stderr);
    closeSync(stderr);
    const blocksWritten = () => readFileSync(ticks, "latin1").replace(/^wippy: .*\n/gm, "").length;
    let read = 0;
    let maxLead = 0;
    // read slowly: a pause after every chunk
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (c: Buffer) => {
        read += c.length;
        maxLead = Math.max(maxLead, blocksWritten() * 4096 - read);
        if (read >= 1024 * 1024) return resolve();
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 5);
      });
      child.once("close", () => resolve());
    });
    expect(read).toBeGreaterThanOrEqual(1024 * 1024);
    // the pipe, the CLI's stream buffer and one block, not the guest's whole output
    expect(maxLead).toBeLessThan(1024 * 1024);
    child.kill("SIGKILL");
  });

  it("wippy run: a service spamming stderr without newlines is logged in partial lines, and SIGINT stops it", { timeout: 120_000 }, async () => {
    const project = makeProject(YAML + SPAMMER, { "wasm/spew.wasm": "core/spew.wasm" });
    const child = wippy(project.root, ["run"]);
    const partial = new RegExp(`^\\[\\{t:hosts\\|[0-9A-Za-z]+\\} t:spew\\] x{${MAX_PENDING_LINE}}$`);
    let partialLines = 0;
    let unfinished = "";
    /** Our own lines ("wippy: ..."), in order. */
    const own: string[] = [];
    let enough: () => void = () => {};
    const signalled = new Promise<void>((resolve) => (enough = resolve));
    child.stderr.on("data", (c: Buffer) => {
      const lines = (unfinished + c.toString()).split("\n");
      unfinished = lines.pop()!;
      for (const line of lines) {
        if (partial.test(line)) partialLines++;
        else if (line.startsWith("wippy: ")) own.push(line);
      }
      if (partialLines >= 3) enough();
    });
    // without a partial line by then, stop anyway: the checks below fail
    const fallback = setTimeout(enough, 30_000);
    await signalled;
    clearTimeout(fallback);
    child.kill("SIGINT");
    expect(await closed(child)).toBe(0);
    expect(partialLines).toBeGreaterThanOrEqual(3);
    expect(own.at(-1)).toBe("wippy: stopped");
  });
});
