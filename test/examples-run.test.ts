// Runs the examples end to end through the CLI, each on a temp copy so the
// repository's own output folders stay clean.

import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, REPO, sha256, withoutPrepareNotice } from "./helpers/project.ts";

const BIN = join(REPO, "bin", "wippy.js");

function wippy(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-cli-cache-")), ...env },
    input: "",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: withoutPrepareNotice(r.stderr) };
}

/** A temp copy of an example, with whatever an earlier run left in output/ removed. */
function copyExample(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `wippy-example-${name}-`));
  cpSync(join(REPO, "examples", name), root, { recursive: true });
  const output = join(root, "output");
  if (existsSync(output)) {
    for (const f of readdirSync(output)) if (f !== ".gitignore") rmSync(join(output, f), { recursive: true, force: true });
  }
  return root;
}

describe("examples/file-processor", () => {
  const INPUT = readFileSync(join(REPO, "examples", "file-processor", "data", "input.csv"), "utf8");

  it("the example's input has a header and the rows the expected sum comes from", () => {
    const lines = INPUT.trim().split("\n");
    expect(lines[0]).toBe("item,amount");
    expect(lines.slice(1).map((l) => Number(l.split(",")[1])).reduce((a, b) => a + b, 0)).toBe(60.5);
  });

  it("wippy run process-file sums the CSV from the read-only mount and writes output/result.txt", () => {
    const root = copyExample("file-processor");
    expect(existsSync(join(root, "output", "result.txt"))).toBe(false);
    const r = wippy(root, ["run", "process-file"]);
    expect(r).toEqual({ code: 0, stdout: "rows=3 sum=60.5\n", stderr: "" });
    expect(readFileSync(join(root, "output", "result.txt"), "utf8")).toBe("rows=3 sum=60.5\n");
    expect(readFileSync(join(root, "data", "input.csv"), "utf8")).toBe(INPUT);
  });

  it("lists the command with its short text", () => {
    const r = wippy(copyExample("file-processor"), ["run", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^process-file\s+\S.*$/m);
  });

  it("OUTPUT_FORMAT comes from the env.variable entry: its OS variable switches to JSON", () => {
    const root = copyExample("file-processor");
    const r = wippy(root, ["run", "process-file"], { FILE_PROCESSOR_FORMAT: "json" });
    expect(r).toEqual({ code: 0, stdout: '{"rows":3,"sum":60.5}\n', stderr: "" });
    expect(readFileSync(join(root, "output", "result.txt"), "utf8")).toBe('{"rows":3,"sum":60.5}\n');
  });

  it("the guest sees only what the entry grants: the host's OUTPUT_FORMAT does not leak in", () => {
    const r = wippy(copyExample("file-processor"), ["run", "process-file"], { OUTPUT_FORMAT: "json" });
    expect(r).toEqual({ code: 0, stdout: "rows=3 sum=60.5\n", stderr: "" });
  });

  it("auto_init creates a missing output folder", () => {
    const root = copyExample("file-processor");
    rmSync(join(root, "output"), { recursive: true, force: true });
    const r = wippy(root, ["run", "process-file"]);
    expect(r).toMatchObject({ code: 0, stdout: "rows=3 sum=60.5\n" });
    expect(readFileSync(join(root, "output", "result.txt"), "utf8")).toBe("rows=3 sum=60.5\n");
  });

  it("a guest write under the read-only /data mount fails inside the guest; the file on disk is unchanged", () => {
    const root = copyExample("file-processor");
    copyFileSync(fixture("c/files.core.wasm"), join(root, "wasm", "files.wasm"));
    const hash = `sha256:${sha256(join(root, "wasm", "files.wasm"))}`;
    const writer = (name: string, path: string) => `
  - name: ${name}
    kind: process.wasm
    fs: myns:wasm_binaries
    path: /files.wasm
    hash: ${hash}
    method: _start
    imports: [wasi:cli, wasi:io, wasi:clocks, wasi:filesystem]
    wasi:
      args: [write, ${path}, x]
      mounts:
        - { fs: myns:input_data, guest: /data, read_only: true }
        - { fs: myns:output_dir, guest: /output }
`;
    writeFileSync(
      join(root, "src", "writers.yaml"),
      `version: "1.0"\nnamespace: myns\nentries:${writer("data_writer", "/data/input.csv")}${writer("output_writer", "/output/note.txt")}`,
    );

    const denied = wippy(root, ["run", "-x", "myns:data_writer"]);
    expect(denied.stdout).toBe("");
    expect(denied.stderr).toMatch(/^files: write \/data\/input\.csv: Read-only file system\n$/);
    expect(denied.code).toBe(1);
    expect(readFileSync(join(root, "data", "input.csv"), "utf8")).toBe(INPUT);

    // The same program writing under the writable mount succeeds: the refusal is the mount's.
    const allowed = wippy(root, ["run", "-x", "myns:output_writer"]);
    expect(allowed).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(join(root, "output", "note.txt"), "utf8")).toBe("x");
  });
});

describe("examples/ping-pong", () => {
  it("wippy run ping-pong: two C guests exchange 1000 messages; the CLI prints the count", () => {
    expect(wippy(copyExample("ping-pong"), ["run", "ping-pong"])).toEqual({ code: 0, stdout: "1000\n", stderr: "" });
  });

  it("wippy run ping-pong N exchanges N messages", () => {
    expect(wippy(copyExample("ping-pong"), ["run", "ping-pong", "25"])).toEqual({ code: 0, stdout: "25\n", stderr: "" });
  });

  it("a count that is not positive is the guest's usage error, exit status 2", () => {
    expect(wippy(copyExample("ping-pong"), ["run", "ping-pong", "0"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "pingpong: N must be a positive number of messages, got 0\n",
    });
  });
});

describe("examples/guest-supervisor", () => {
  it("wippy run guest-supervisor prints 42: compute_worker(6, 7) spawned and monitored by a C guest", () => {
    expect(wippy(copyExample("guest-supervisor"), ["run", "guest-supervisor"])).toEqual({ code: 0, stdout: "42\n", stderr: "" });
  });

  it("without process.spawn the spawn is refused inside the guest, with a message naming the entry", () => {
    const root = copyExample("guest-supervisor");
    const yaml = join(root, "src", "main.yaml");
    const granted = readFileSync(yaml, "utf8");
    const withoutGrant = granted.replace(/\n {4}process:\n {6}spawn: \[myns:compute_worker\]/, "");
    expect(withoutGrant).not.toBe(granted);
    writeFileSync(yaml, withoutGrant);
    const r = wippy(root, ["run", "guest-supervisor"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^guest_supervisor: spawn failed: .*myns:compute_worker.*process\.spawn\n$/);
  });
});
