import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs, UsageError } from "../src/cli/args.ts";
import { Runtime } from "../src/index.ts";
import { startNats } from "./helpers/nats.ts";
import { captureStdio, makeProject, REPO, withoutPrepareNotice } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";
import { aliasBomb } from "./registries/cases.ts";

const BIN = join(REPO, "bin", "wippy.js");

function wippy(cwd: string, args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, WIPPY_CACHE_DIR: env.WIPPY_CACHE_DIR ?? mkdtempSync(join(tmpdir(), "wippy-cli-cache-")), ...env },
    input: input ?? "",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: withoutPrepareNotice(r.stderr) };
}

const hello = join(REPO, "examples", "hello");
const compute = join(REPO, "examples", "compute");

describe("wippy CLI", () => {
  it("runs the seed's greet command", () => {
    const r = wippy(hello, ["run", "greet", "Ada"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("Hello, Ada!\n");
    expect(r.code).toBe(0);
  });

  it("lists commands with their short text", () => {
    const r = wippy(hello, ["run", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^greet\s+Greet someone via WASM$/m);
  });

  it("runs any process.wasm entry with -x and prints its value", () => {
    const r = wippy(compute, ["run", "-x", "myns:compute_worker", "6", "7"]);
    expect(r).toMatchObject({ code: 0, stdout: "42\n" });
  });

  it("the second run reuses the transpiled component from the disk cache", () => {
    const cache = mkdtempSync(join(tmpdir(), "wippy-cli-cache-"));
    const first = wippy(hello, ["run", "greet", "Ada"], { WIPPY_CACHE_DIR: cache, WIPPY_LOG: "debug" });
    expect(first.stderr).toMatch(/wippy: transpiled component \/component\.wasm/);
    const files = readdirSync(join(cache, "components"));
    expect(files).toHaveLength(1);
    const js = readFileSync(join(cache, "components", files[0]!, "component.js"), "utf8");
    const second = wippy(hello, ["run", "greet", "Bob"], { WIPPY_CACHE_DIR: cache, WIPPY_LOG: "debug" });
    expect(second.stdout).toBe("Hello, Bob!\n");
    expect(second.stderr).toMatch(/loaded cached transpilation of component/);
    expect(second.stderr).not.toMatch(/wippy: transpiled/);
    expect(readFileSync(join(cache, "components", files[0]!, "component.js"), "utf8")).toBe(js);
  });

  it("fails with one line and status 1 for a bad command, a trap, wrong arguments", () => {
    const none = wippy(hello, ["run", "nope"]);
    expect(none).toMatchObject({ code: 1, stdout: "" });
    expect(none.stderr).toBe("wippy: no command nope; commands: greet\n");
    const args = wippy(compute, ["run", "-x", "myns:compute_worker", "6"]);
    expect(args.code).toBe(1);
    expect(args.stderr).toBe("wippy: myns:compute_worker failed (spawn): compute takes 2 arguments (i32, i32), got 1\n");
    const project = makeProject(
      `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: term, kind: terminal.host }
  - { name: trap, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: trap }
`,
      { "wasm/c.wasm": "core/compute.wasm" },
    );
    const trap = wippy(project.root, ["run", "-x", "t:trap"]);
    expect(trap.code).toBe(1);
    expect(trap.stderr).toMatch(/^wippy: t:trap failed \(trap\): wasm trap: unreachable[^\n]*\n$/);
  });

  it("says which host is missing", () => {
    const noTerminal = makeProject(
      `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: c, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: answer, meta: { command: { name: answer } } }
`,
      { "wasm/c.wasm": "core/compute.wasm" },
    );
    const r = wippy(noTerminal.root, ["run", "answer"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs a terminal\.host entry/);
    const noHost = makeProject(
      `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: term, kind: terminal.host }
  - { name: c, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: answer, meta: { command: { name: answer } } }
`,
      { "wasm/c.wasm": "core/compute.wasm" },
    );
    const r2 = wippy(noHost.root, ["run", "answer"]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/needs a process\.host entry/);
  });

  it("never picks the process host silently: --host, else the only host, else an error listing them", () => {
    // t:a refuses the fuel limit (preempt: false), so where a run lands shows in its result
    const project = makeProject(
      `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: a, kind: process.host, host: { preempt: false } }
  - { name: b, kind: process.host }
  - { name: term, kind: terminal.host }
  - { name: c, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: answer, limits: { fuel: 1000000 }, meta: { command: { name: answer } } }
`,
      { "wasm/c.wasm": "core/compute.wasm" },
    );
    const unchosen = wippy(project.root, ["run", "-x", "t:c"]);
    expect(unchosen).toMatchObject({ code: 1, stdout: "" });
    expect(unchosen.stderr).toBe("wippy: the registry has 2 process hosts (t:a, t:b); choose one with --host <id>\n");
    expect(wippy(project.root, ["run", "answer"]).stderr).toBe(unchosen.stderr);
    expect(wippy(project.root, ["--host", "t:b", "run", "-x", "t:c"])).toMatchObject({ code: 0, stdout: "42\n" });
    expect(wippy(project.root, ["run", "--host=t:b", "answer"])).toMatchObject({ code: 0, stdout: "42\n" });
    const onA = wippy(project.root, ["run", "--host", "t:a", "answer"]);
    expect(onA.code).toBe(1);
    expect(onA.stderr).toMatch(/^wippy: t:c failed \(spawn\): [^\n]*process\.host t:a has preempt: false[^\n]*\n$/);
    const unknown = wippy(project.root, ["run", "--host", "t:nope", "answer"]);
    expect(unknown).toMatchObject({ code: 1, stdout: "" });
    expect(unknown.stderr).toBe("wippy: --host t:nope: no process.host t:nope in the registry; process hosts: t:a, t:b\n");
    const wrongKind = wippy(project.root, ["run", "--host", "t:term", "answer"]);
    expect(wrongKind.stderr).toBe("wippy: --host t:term: t:term is a terminal.host, not a process.host; process hosts: t:a, t:b\n");
    // services name their own hosts: --host means nothing to `wippy run` without a command
    expect(wippy(project.root, ["--host", "t:b", "run"])).toMatchObject({ code: 1, stderr: "wippy: --host chooses where a command runs (wippy run <name> or -x <ns:entry>); services name their own host\n" });
  });

  it("lint reports every registry error at once; registry list and show", () => {
    const bad = makeProject(`namespace: t
entries:
  - { name: a, kind: nope }
  - { name: b, kind: process.host, host: { workers: -1 } }
`);
    const lint = wippy(bad.root, ["lint"]);
    expect(lint.code).toBe(1);
    expect(lint.stderr.trim().split("\n")).toHaveLength(2);
    expect(lint.stderr).toMatch(/src\/app\.yaml:3: entry t:a.*kind/);
    expect(lint.stderr).toMatch(/src\/app\.yaml:4: entry t:b, field host\.workers/);
    expect(wippy(hello, ["lint"])).toMatchObject({ code: 0, stdout: "ok: 4 entries in 1 file\n" });
    const list = wippy(hello, ["registry", "list", "--kind", "process.wasm"]);
    expect(list.stdout).toBe("myns:greet  process.wasm\n");
    const show = wippy(hello, ["registry", "show", "myns:greet"]);
    expect(show.stdout).toMatch(/^# src\/main\.yaml:\d+\n/);
    expect(show.stdout).toMatch(/method: greet/);
  });

  it("lint of a YAML alias bomb exits 1 with one line naming the file and line", () => {
    const bomb = makeProject(aliasBomb(8));
    const lint = wippy(bomb.root, ["lint"]);
    expect(lint).toMatchObject({ code: 1, stdout: "" });
    expect(lint.stderr).toMatch(/^src\/app\.yaml:8: YAML aliases expand to more than 10000 copies; an alias bomb\?[^\n]*\n$/);
  });

  it("lint warns that queue_size has no effect here, naming file, entry and field, and still passes", () => {
    const project = makeProject(`namespace: t
entries:
  - { name: a, kind: process.host }
  - { name: b, kind: process.host, host: { queue_size: 1024, max_processes: 10 } }
`);
    const r = wippy(project.root, ["lint"]);
    expect(r).toEqual({
      code: 0,
      stdout: "ok: 2 entries in 1 file\n",
      stderr:
        "warning: src/app.yaml:4: entry t:b, field host.queue_size: has no effect here: it sizes Wippy's run queue, which this runtime does not have; it is accepted so the same registry also runs on Wippy\n",
    });
  });

  it("lint and run refuse a process.actor without a module, naming it (the CLI cannot pass logic in code)", () => {
    const project = makeProject(`namespace: t
entries:
  - { name: hosts, kind: process.host }
  - { name: counter, kind: process.actor }
  - { name: ok, kind: process.actor, module: "file://ok.js" }
`, {}, { "src/ok.js": "export default { transition() {}, getInitialSnapshot() {} };\n" });
    const line = "src/app.yaml:4: entry t:counter: the process.actor entry has no logic; give it a module (module: file://<path> of an ES module exporting the logic), the CLI cannot pass logic in code\n";
    expect(wippy(project.root, ["lint"])).toMatchObject({ code: 1, stdout: "", stderr: line });
    expect(wippy(project.root, ["run"])).toMatchObject({ code: 1, stdout: "", stderr: line });
  });

  it("a command runs its one process: the registry's auto_start services do not start with it", () => {
    const project = makeProject(
      `namespace: a
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: terminal, kind: terminal.host }
  - { name: hello, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:wasm/hello.wasm}}", method: _start, imports: [wasi:cli], meta: { command: { name: hi } } }
  - { name: loud, kind: process.service, process: hello, host: hosts, lifecycle: { auto_start: true } }
  - { name: root, kind: process.supervisor, host: hosts, children: [loud], lifecycle: { auto_start: true } }
`,
      { "wasm/hello.wasm": "c/hello.core.wasm" },
    );
    const r = wippy(project.root, ["run", "hi"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l === "hello from wasi")).toHaveLength(1); // the command's own, not the service's too
  });

  it("--help", () => {
    const r = wippy(hello, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wippy run list/);
  });
});

describe("the package", () => {
  it("is importable by name from plain Node (.mjs) and runs the compute example", () => {
    const r = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `import { Runtime } from "wippy-wasm"; const rt = await Runtime.open({ root: "examples/compute" }); console.log(JSON.stringify(await rt.process.exec("myns:compute_worker", "myns:processes", 6, 7))); await rt.close();`],
      { cwd: REPO, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('{"value":42}\n');
  });

  it("examples/compute/main.ts prints the seed's 42", () => {
    const r = spawnSync(process.execPath, [join(REPO, "examples", "compute", "main.ts")], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("42\n");
  });

  it("examples/ts-actors/main.ts: a TS supervisor over a counter machine and a crashing fromProcess worker that calls WASM", () => {
    const r = spawnSync(process.execPath, [join(REPO, "examples", "ts-actors", "main.ts")], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    const products = Array.from({ length: 9 }, (_, i) => `6 × ${i + 1} = ${6 * (i + 1)}`);
    expect(r.stdout).toBe(
      [...products, "total: 270", "tally: worker, running, restarts 0", "multiplier: worker, running, restarts 2", "app:tree (YAML): 1 of 1 children running", ""].join("\n"),
    );
  });

  it("examples/ts-actors runs its YAML tree (a named TS actor as a service) under wippy run and stops it on SIGINT", async () => {
    const child = spawn(process.execPath, [BIN, "run"], { cwd: join(REPO, "examples", "ts-actors"), stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    for (let i = 0; i < 600 && !err.includes("Ctrl-C to stop"); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code).toBe(0);
    expect(err).toMatch(/start \{app:processes\|\w+\} app:counter_service \[app:tree\]/);
    expect(err).toMatch(/stop \{app:processes\|\w+\} app:counter_service \(normal exit \(0\)\) \[app:tree\]/);
  });
});

describe("WASI commands (preview1 core modules)", () => {
  const yaml = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: term, kind: terminal.host }
  - { name: code, kind: env.variable, variable: HELLO_EXIT }
  - { name: greeting, kind: env.variable, default: "hi there" }
  - name: hello
    kind: process.wasm
    fs: bin
    path: /hello.wasm
    hash: "{{hash:wasm/hello.wasm}}"
    method: _start
    imports: [wasi:cli, wasi:io, wasi:clocks]
    wasi:
      env:
        - { id: code, name: EXIT_CODE }
        - { id: greeting, name: GREETING }
  - { name: cat, kind: process.wasm, fs: bin, path: /cat.wasm, hash: "{{hash:wasm/cat.wasm}}", method: _start, imports: [wasi:cli, wasi:io] }
  - { name: crash, kind: process.wasm, fs: bin, path: /crash.wasm, hash: "{{hash:wasm/crash.wasm}}", method: _start, imports: [wasi:cli] }
`;
  const project = makeProject(yaml, { "wasm/hello.wasm": "c/hello.core.wasm", "wasm/cat.wasm": "c/cat.core.wasm", "wasm/crash.wasm": "c/crash.core.wasm" });

  it("prints the guest's own output, argv[0] is the entry's name, exits 0", () => {
    const r = wippy(project.root, ["run", "-x", "t:hello", "a", "b c"]);
    expect(r.stdout).toBe("hello from wasi\nhello\na\nb c\nhi there\n");
    expect(r.stderr).toBe("to stderr\n");
    expect(r.code).toBe(0);
  });

  it("exits with the guest's exit status, printing nothing more", () => {
    const r = wippy(project.root, ["run", "-x", "t:hello"], { HELLO_EXIT: "7" });
    expect(r.code).toBe(7);
    expect(r.stderr).toBe("to stderr\n");
  });

  it("stdin reaches the guest; a crash is one line and status 1", () => {
    expect(wippy(project.root, ["run", "-x", "t:cat"], {}, "line one\nline two\n")).toMatchObject({ code: 0, stdout: "line one\nline two\n" });
    const crash = wippy(project.root, ["run", "-x", "t:crash"]);
    expect(crash.code).toBe(1);
    expect(crash.stderr).toMatch(/^wippy: t:crash failed \(trap\): [^\n]+\n$/);
  });
});

describe("wippy run --cluster (SPEC 9)", () => {
  const NATS = "nats://127.0.0.1:4222";
  const usage = (argv: string): string => {
    try {
      parseArgs(argv.split(" "));
    } catch (err) {
      if (err instanceof UsageError) return err.message;
      throw err;
    }
    throw new Error(`${argv} parsed`);
  };

  it("parses the flags, in both spellings, into the cluster a node joins", () => {
    expect(parseArgs(["run", "--cluster", NATS, "--node", "b", "--serve", "myns:compute_worker,tools:*", "--nats-token", "s3cret"])).toMatchObject({
      words: ["run"],
      cluster: { nats: [NATS], node: "b", serve: ["myns:compute_worker", "tools:*"], token: "s3cret" },
    });
    const eq = parseArgs([`--cluster=${NATS},nats://10.0.0.2:4222`, "--node=a", "--serve=x:y", "--serve", "z:*", "--nats-creds=a.creds", "run", "-x", "myns:compute_worker", "6", "7"]);
    expect(eq.cluster).toEqual({ nats: [NATS, "nats://10.0.0.2:4222"], node: "a", serve: ["x:y", "z:*"], creds: "a.creds" });
    expect(eq.words).toEqual(["run", "myns:compute_worker", "6", "7"]);
    expect(parseArgs(["run", "--cluster", "127.0.0.1:4222", "--node", "n-1"]).cluster).toEqual({ nats: ["127.0.0.1:4222"], node: "n-1", serve: [] });
    expect(parseArgs(["run"]).cluster).toBeUndefined();
    // after the command's name every word is the guest's, --cluster too
    expect(parseArgs(["run", "greet", "--cluster", NATS]).words).toEqual(["run", "greet", "--cluster", NATS]);
  });

  it("refuses what does not go together, each in one line saying what to add or drop", () => {
    expect(usage(`run --cluster ${NATS}`)).toMatch(/^--cluster needs --node NAME: .*e\.g\. --cluster nats:\/\/127\.0\.0\.1:4222 --node a$/);
    expect(usage("run --node b")).toMatch(/^--node b names this runtime in a cluster; add --cluster URL/);
    for (const flag of ["--serve myns:x", "--nats-token t", "--nats-creds f"]) expect(usage(`run ${flag}`)).toMatch(new RegExp(`^${flag.split(" ")[0]} is for a node of a cluster; add --cluster URL --node NAME`));
    expect(usage(`run --cluster ${NATS} --node b --nats-token t --nats-creds f`)).toBe("--nats-token and --nats-creds are two ways to log in to NATS; give one of them");
    expect(usage("run --cluster http://x:4222 --node b")).toMatch(/^--cluster http:\/\/x:4222: not a NATS server URL; give nats:\/\/HOST:PORT/);
    expect(usage("run --cluster , --node b")).toMatch(/^--cluster needs the URL of a NATS server/);
    expect(usage(`run --cluster ${NATS} --node a.b`)).toBe('--node "a.b": a node name is 1–64 letters, digits, "_" and "-"');
    expect(usage(`run --cluster ${NATS} --node b --serve compute_worker`)).toMatch(/^--serve compute_worker: list entry IDs \(ns:name\) or ns:\* separated by commas/);
    expect(usage(`run --cluster ${NATS} --node b --serve ,`)).toMatch(/^--serve needs entry IDs/);
    expect(usage(`lint --cluster ${NATS} --node b`)).toBe("--cluster is for wippy run (services or a command); wippy lint runs nothing");
    expect(usage(`run --cluster ${NATS} --node b list`)).toBe("--cluster is for wippy run (services or a command); wippy run list runs nothing");
    expect(usage("run --cluster")).toBe("--cluster needs a value");
  });

  it("checks --serve against the registry and --nats-creds on disk before joining: one line, status 1", () => {
    const run = (...flags: string[]) => wippy(compute, ["run", "--cluster", NATS, "--node", "b", ...flags]);
    expect(run("--serve", "myns:nope")).toMatchObject({ code: 1, stdout: "", stderr: "wippy: --serve myns:nope: no entry myns:nope in the registry; see wippy registry list --kind process.wasm\n" });
    expect(run("--serve", "myns:processes").stderr).toBe("wippy: --serve myns:processes: it is a process.host; other nodes can spawn only process.wasm, process.lua, process.actor entries\n");
    expect(run("--serve", "other:*").stderr).toBe("wippy: --serve other:*: the registry has no process entry in namespace other; see wippy registry list\n");
    expect(run("--nats-creds", "/nonexistent/a.creds").stderr).toMatch(/^wippy: --nats-creds \/nonexistent\/a\.creds: cannot read \/nonexistent\/a\.creds; [^\n]+\n$/);
  });

  it("a node started from the CLI serves compute_worker to a node opened here: 6 × 7 → EXIT 42; SIGINT leaves the cluster, status 0", { timeout: 60_000 }, async () => {
    const nats = await startNats({ token: "cli-token" });
    const child = spawn(process.execPath, [BIN, "run", "--cluster", nats.url, "--node", "b", "--serve", "myns:compute_worker", "--nats-token", "cli-token"], {
      cwd: compute,
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-cli-cache-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    let rt: Runtime | undefined;
    try {
      await until(() => err.includes("Ctrl-C") || child.exitCode !== null, 30_000, "the node's ready line");
      expect(err).toMatch(/Ctrl-C/);
      expect(err).toContain(`wippy: node b joined the cluster at ${nats.url}; serves myns:compute_worker\n`);
      rt = await Runtime.open({ root: compute, stdio: captureStdio().stdio, cluster: { nats: nats.url, node: "a", auth: { token: "cli-token" } } });
      await until(() => rt!.nodes().some((n) => n.name === "b" && n.state === "up"), 10_000, "node b up");
      const pid = await rt.process.spawnMonitored("myns:compute_worker", "b@myns:processes", 6, 7);
      expect(pid).toMatch(/^\{b@myns:processes\|\w+\}$/);
      expect(await rt.process.receive(10_000)).toEqual({ type: "EXIT", from: pid, value: 42 });
      await until(() => err.includes("wippy: node a is up"), 10_000, "node a in the CLI's log");
      await rt.close();
      await until(() => err.includes("wippy: node a has left the cluster"), 10_000, "node a leaving in the CLI's log");
    } finally {
      await rt?.close();
      child.kill("SIGINT");
    }
    const code = await exited;
    await nats.stop();
    expect(code, err).toBe(0);
    const lines = err.trim().split("\n");
    expect(lines.slice(-2)).toEqual(["wippy: SIGINT: stopping the supervision tree and leaving the cluster", "wippy: stopped"]);
  });
});
