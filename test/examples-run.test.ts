// Runs the examples end to end through the CLI, each on a temp copy so the
// repository's own output folders stay clean.

import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireNatsServer, startNats, type NatsServer } from "./helpers/nats.ts";
import { fixture, REPO, sha256, withoutPrepareNotice } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";

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

describe("examples/cluster (two nodes over a real nats-server)", () => {
  const EXAMPLE = join(REPO, "examples", "cluster");
  let nats: NatsServer;
  beforeAll(async () => {
    requireNatsServer(); // fails loudly, never skips: this example is about a real NATS
    nats = await startNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  /** Node b from the CLI, as the README starts it; resolves once it says it runs. */
  async function nodeB(serve: string[]) {
    const child = spawn(process.execPath, [BIN, "--root", EXAMPLE, "run", "--cluster", nats.url, "--node", "b", ...serve], {
      cwd: REPO,
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-cli-cache-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log = { text: "" };
    child.stderr.on("data", (c: Buffer) => (log.text += c.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    await until(() => log.text.includes("Ctrl-C") || child.exitCode !== null, 30_000, "node b running");
    expect(log.text, log.text).toMatch(/running until Ctrl-C/);
    return {
      log,
      stop: async () => {
        child.kill("SIGINT");
        return exited;
      },
    };
  }

  /** Node a: examples/cluster/main.ts, as `npm run cluster` runs it. */
  function nodeA(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(EXAMPLE, "main.ts"), nats.url], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("carries the seed's compute_worker binary", () => {
    const hash = sha256(join(EXAMPLE, "wasm", "worker.wasm"));
    expect(hash).toBe(sha256(join(REPO, "examples", "compute", "wasm", "worker.wasm")));
    expect(readFileSync(join(EXAMPLE, "src", "main.yaml"), "utf8")).toContain(`hash: sha256:${hash}`);
  });

  it("node a spawns compute_worker(6, 7) on node b, monitors it and prints EXIT 42; b logs a coming and going and stops on SIGINT", { timeout: 90_000 }, async () => {
    const b = await nodeB(["--serve", "myns:compute_worker"]);
    let code: number | null;
    let a: Awaited<ReturnType<typeof nodeA>>;
    try {
      a = await nodeA();
      await until(() => b.log.text.includes("wippy: node a has left the cluster"), 10_000, "node a leaving in b's log");
    } finally {
      code = await b.stop();
    }
    expect(a.stderr).toBe("");
    expect(a.stdout).toMatch(/^nodes up: a, b\ncompute_worker\(6, 7\) on node b: \{b@myns:processes\|[0-9A-Za-z]{12}\}\nEXIT from node b: 42\n$/);
    expect(a.code).toBe(0);
    expect(code, b.log.text).toBe(0);
    const lines = withoutPrepareNotice(b.log.text).trim().split("\n");
    expect(lines).toEqual([
      `wippy: node b joined the cluster at ${nats.url}; serves myns:compute_worker`,
      "wippy: nothing is marked auto_start; running until Ctrl-C",
      "wippy: node a is up",
      "wippy: node a has left the cluster",
      "wippy: SIGINT: stopping the supervision tree and leaving the cluster",
      "wippy: stopped",
    ]);
  });

  it("deny by default: node b without --serve refuses the spawn, and node a says so in one line", { timeout: 90_000 }, async () => {
    const b = await nodeB([]);
    let a: Awaited<ReturnType<typeof nodeA>>;
    try {
      a = await nodeA();
    } finally {
      expect(await b.stop()).toBe(0);
    }
    expect(b.log.text).toContain("serves nothing (remote spawns are refused; --serve ID,… opens entries)");
    expect(a.code).toBe(1);
    expect(a.stdout).toBe("nodes up: a, b\n");
    expect(a.stderr).toBe('cluster example: node b does not serve myns:compute_worker: add "myns:compute_worker" (or "myns:*") to its cluster serve list\n');
  });
});
