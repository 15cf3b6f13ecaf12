import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  RegistryError,
  formatIssue,
  loadRegistry,
  parseDuration,
  parseSize,
  substituteEnv,
  validateDocuments,
} from "../src/registry/index.ts";
import type { Entry, RegistryIssue, ValidationResult } from "../src/registry/index.ts";
import { BAD, BASE, HASH, SEED, aliasBomb, wasm } from "./registries/cases.ts";

const ROOT = "/proj";

/** Validates in-memory files placed under /proj/src. */
function validate(files: Record<string, string>, env: Record<string, string | undefined> = {}): ValidationResult {
  const docs = Object.entries(files).map(([name, text]) => ({ file: `src/${name}`, text }));
  return validateDocuments(docs, { root: ROOT, src: `${ROOT}/src`, env });
}

function valid(files: Record<string, string>, env: Record<string, string | undefined> = {}): Map<string, Entry> {
  const result = validate(files, env);
  expect(result.issues.map((issue) => formatIssue(issue, ROOT))).toEqual([]);
  return result.entries;
}

function get<K extends Entry["kind"]>(entries: Map<string, Entry>, id: string, kind: K): Entry & { kind: K } {
  const entry = entries.get(id);
  expect(entry?.kind).toBe(kind);
  return entry as Entry & { kind: K };
}

describe("good registries", () => {
  it("parses the seed's example into typed entries", () => {
    const entries = valid({ "app.yaml": SEED });
    expect(entries.size).toBe(11);
    expect(get(entries, "myns:wasm_binaries", "fs.directory")).toEqual({
      id: "myns:wasm_binaries",
      namespace: "myns",
      name: "wasm_binaries",
      kind: "fs.directory",
      origin: { file: "/proj/src/app.yaml", line: 4 },
      meta: {},
      directory: "/proj/wasm",
      autoInit: false,
    });
    expect(get(entries, "myns:compute_worker", "process.wasm")).toEqual({
      id: "myns:compute_worker",
      namespace: "myns",
      name: "compute_worker",
      kind: "process.wasm",
      origin: { file: "/proj/src/app.yaml", line: 8 },
      meta: {},
      fs: "myns:wasm_binaries",
      path: "/worker.wasm",
      hash: HASH,
      method: "compute",
      imports: [],
      wasi: { env: [], mounts: [] },
      limits: {},
    });
    const greet = get(entries, "myns:greet", "process.wasm");
    expect(greet.hash).toBe(HASH);
    expect(greet.command).toEqual({ name: "greet", short: "Greet someone via WASM" });
    expect(greet.meta).toEqual({ command: { name: "greet", short: "Greet someone via WASM" } });
    const http = get(entries, "myns:http_worker", "process.wasm");
    expect(http.imports).toEqual(["wasi:io", "wasi:cli", "wasi:http"]);
    expect(http.wasi.env).toEqual([{ id: "myns:api_url", name: "API_URL", required: true }]);
    const processor = get(entries, "myns:file_processor", "process.wasm");
    expect(processor.wasi).toEqual({
      args: ["--input", "/data/input.csv"],
      cwd: "/app",
      env: [{ id: "myns:output_format", name: "OUTPUT_FORMAT", required: false }],
      mounts: [
        { fs: "myns:input_data", guest: "/data", readOnly: true },
        { fs: "myns:output_dir", guest: "/output", readOnly: false },
      ],
    });
    expect(get(entries, "myns:output_dir", "fs.directory").directory).toBe("/var/out");
    expect(get(entries, "myns:api_url", "env.variable")).toMatchObject({ variable: "API_URL", default: "http://localhost:8080" });
    expect(get(entries, "myns:output_format", "env.variable").variable).toBeUndefined();
    expect(get(entries, "myns:terminal", "terminal.host").hideLogs).toBe(false);
    expect(get(entries, "myns:processes", "process.host")).toMatchObject({ limits: {} });
  });

  it("resolves references without a namespace in the referring file's namespace, across dotted namespaces", () => {
    const entries = valid({
      "bins.yaml": `namespace: app.shared
entries:
  - name: bins
    kind: fs.directory
    directory: bins
`,
      "workers.yaml": `namespace: app.workers
entries:
  - name: compute
    kind: function.wasm
    fs: app.shared:bins
    path: worker.wasm
    hash: sha256:${HASH}
    method: compute
  - name: host
    kind: process.host
  - name: svc
    kind: process.wasm
    fs: app.shared:bins
    path: /svc.wasm
    hash: sha256:${HASH}
    method: run
  - name: service
    kind: process.service
    process: svc
    host: host
  - name: sup
    kind: process.supervisor
    children: [service]
`,
    });
    expect(get(entries, "app.workers:compute", "function.wasm")).toMatchObject({ namespace: "app.workers", fs: "app.shared:bins" });
    expect(get(entries, "app.workers:service", "process.service")).toMatchObject({ process: "app.workers:svc", host: "app.workers:host" });
    expect(get(entries, "app.workers:sup", "process.supervisor").children).toEqual(["app.workers:service"]);
    expect(get(entries, "app.shared:bins", "fs.directory").directory).toBe("/proj/bins");
  });

  it("substitutes ${env:...} with and without defaults, in every string value", () => {
    const entries = valid(
      {
        "app.yaml": `namespace: ns
entries:
  - name: dir
    kind: fs.directory
    directory: \${env:DATA_DIR}/wasm
  - name: host
    kind: process.host
    host:
      workers: \${env:WORKERS|4}
    limits:
      max_memory: \${env:MEM|16MiB}
  - name: term
    kind: terminal.host
    hide_logs: \${env:QUIET|false}
  - name: var
    kind: env.variable
    default: "\${env:MISSING|fallback} and \${env:HOME_DIR}"
    meta:
      note: "built by \${env:USER_NAME|nobody}, literal $\${env:KEEP}"
`,
      },
      { DATA_DIR: "/srv/data", HOME_DIR: "/home/me", QUIET: "true" },
    );
    expect(get(entries, "ns:dir", "fs.directory").directory).toBe("/srv/data/wasm");
    expect(get(entries, "ns:host", "process.host")).toMatchObject({ workers: 4, limits: { maxMemory: 16 * 1024 * 1024 } });
    expect(get(entries, "ns:term", "terminal.host").hideLogs).toBe(true);
    const variable = get(entries, "ns:var", "env.variable");
    expect(variable.default).toBe("fallback and /home/me");
    expect(variable.meta).toEqual({ note: "built by nobody, literal ${env:KEEP}" });
  });

  it("reads durations and sizes with units or as plain numbers", () => {
    const entries = valid({
      "app.yaml": `namespace: ns
entries:
  - name: bins
    kind: fs.directory
    directory: /bins
  - name: a
    kind: process.wasm
    fs: bins
    path: /a.wasm
    hash: sha256:${HASH}
    method: run
    limits:
      max_execution_ms: 2m
      max_memory: 64KiB
      fuel: 1000000
  - name: b
    kind: process.wasm
    fs: bins
    path: /b.wasm
    hash: sha256:${HASH}
    method: run
    limits:
      max_execution_ms: 1500
      max_memory: 10MB
  - name: h
    kind: process.host
    limits:
      max_execution_ms: 1h30m
      max_memory: 1GiB
`,
    });
    expect(get(entries, "ns:a", "process.wasm").limits).toEqual({ maxExecutionMs: 120_000, maxMemory: 65_536, fuel: 1_000_000 });
    expect(get(entries, "ns:b", "process.wasm").limits).toEqual({ maxExecutionMs: 1500, maxMemory: 10_000_000 });
    expect(get(entries, "ns:h", "process.host").limits).toEqual({ maxExecutionMs: 5_400_000, maxMemory: 1024 ** 3 });
    expect(parseDuration("250ms")).toEqual({ ok: true, value: 250 });
    expect(parseDuration("5s")).toEqual({ ok: true, value: 5000 });
    expect(parseDuration("1.5s")).toEqual({ ok: true, value: 1500 });
    expect(parseDuration(42)).toEqual({ ok: true, value: 42 });
    expect(parseDuration("5 sec").ok).toBe(false);
    expect(parseDuration("-1s").ok).toBe(false);
    expect(parseSize("16MiB")).toEqual({ ok: true, value: 16_777_216 });
    expect(parseSize("512KB")).toEqual({ ok: true, value: 512_000 });
    expect(parseSize(4096)).toEqual({ ok: true, value: 4096 });
    expect(parseSize("12 parsecs").ok).toBe(false);
    expect(parseSize(1.5).ok).toBe(false);
  });

  it("fills defaults for services, supervisors and hosts", () => {
    const entries = valid({
      "app.yaml": `namespace: ns
entries:
  - { name: bins, kind: fs.directory, directory: /bins, auto_init: true }
  - name: worker
    kind: process.wasm
    fs: bins
    path: /w.wasm
    hash: sha256:${HASH}
    method: run
  - name: host
    kind: process.host
    host: { workers: 2, max_processes: 100, queue_size: 1000 }
  - name: svc
    kind: process.service
    process: worker
    host: host
  - name: svc2
    kind: process.service
    process: worker
    host: host
    input: [1, "two", { three: 3 }]
    lifecycle:
      auto_start: true
      stop_timeout: 250ms
      restart:
        policy: transient
        initial_delay: 1s
        max_delay: 1m
        backoff_factor: 1.5
        jitter: 0
        max_attempts: 7
  - name: sup
    kind: process.supervisor
    children: [svc]
  - name: top
    kind: process.supervisor
    host: host
    strategy: rest_for_one
    intensity: 0
    period: 10s
    children: [sup, svc2]
    lifecycle: { auto_start: true }
`,
    });
    expect(get(entries, "ns:bins", "fs.directory").autoInit).toBe(true);
    expect(get(entries, "ns:host", "process.host")).toMatchObject({ workers: 2, maxProcesses: 100, queueSize: 1000 });
    const svc = get(entries, "ns:svc", "process.service");
    expect(svc).toMatchObject({
      process: "ns:worker",
      host: "ns:host",
      input: [],
      autoStart: false,
      stopTimeout: 5000,
      restart: { policy: "permanent", initialDelay: 100, maxDelay: 30_000, backoffFactor: 2, jitter: 0.1 },
    });
    expect(svc.restart.maxAttempts).toBeUndefined();
    expect(get(entries, "ns:svc2", "process.service")).toMatchObject({
      input: [1, "two", { three: 3 }],
      autoStart: true,
      stopTimeout: 250,
      restart: { policy: "transient", initialDelay: 1000, maxDelay: 60_000, backoffFactor: 1.5, jitter: 0, maxAttempts: 7 },
    });
    const sup = get(entries, "ns:sup", "process.supervisor");
    expect(sup).toMatchObject({ strategy: "one_for_one", intensity: 3, period: 5000, children: ["ns:svc"], autoStart: false });
    expect(sup.host).toBeUndefined();
    expect(get(entries, "ns:top", "process.supervisor")).toMatchObject({
      host: "ns:host",
      strategy: "rest_for_one",
      intensity: 0,
      period: 10_000,
      children: ["ns:sup", "ns:svc2"],
      autoStart: true,
    });
  });

  it("reads process.actor entries (module inside the source folder, export, limits) and services naming them", () => {
    const entries = valid({
      "actors/app.yaml": `namespace: ns
entries:
  - name: host
    kind: process.host
  - name: counter
    kind: process.actor
    module: file://counter.ts
    export: counterMachine
    limits: { max_mailbox: 50 }
  - name: registered
    kind: process.actor
  - name: svc
    kind: process.service
    process: counter
    host: host
`,
    });
    expect(get(entries, "ns:counter", "process.actor")).toMatchObject({ module: "/proj/src/actors/counter.ts", export: "counterMachine", limits: { maxMailbox: 50 } });
    const registered = get(entries, "ns:registered", "process.actor");
    expect(registered.export).toBe("default");
    expect(registered.module).toBeUndefined();
    expect(get(entries, "ns:svc", "process.service").process).toBe("ns:counter");
  });

  it("names process.lua and process.actor among the kinds a service may run", () => {
    const result = validate({ "base.yaml": BASE, "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: api_url\n    host: host\n` });
    expect(result.issues.map((issue) => issue.message)).toEqual(["refers to myns:api_url, which is a env.variable; expected an entry of kind process.wasm or process.lua or process.actor"]);
  });

  it("merges YAML anchors (<<) into entries", () => {
    const entries = valid({
      "app.yaml": `namespace: ns
entries:
  - name: bins
    kind: fs.directory
    directory: /bins
  - &base
    name: one
    kind: process.wasm
    fs: bins
    path: /one.wasm
    hash: sha256:${HASH}
    method: run
  - <<: *base
    name: two
    path: /two.wasm
`,
    });
    expect(get(entries, "ns:two", "process.wasm")).toMatchObject({ path: "/two.wasm", method: "run", fs: "ns:bins" });
  });

  it("reads http.allow: hosts, host:port, *.domain, IPs and CIDRs, as written", () => {
    const allow = ["api.example.com", "example.com:8443", "*.example.org", "localhost", "127.0.0.1", "[::1]:8080", "10.0.0.0/8", "fd00::/8"];
    const entries = valid({ "base.yaml": BASE, "app.yaml": wasm(`    imports: [wasi:http]\n    http:\n      allow: ${JSON.stringify(allow)}\n`) });
    expect(get(entries, "myns:w", "process.wasm").http).toEqual({ allow });
    expect(get(entries, "myns:worker", "process.wasm").http).toBeUndefined(); // no http: any public address
    const empty = valid({ "base.yaml": BASE, "app.yaml": wasm("    http:\n      allow: []\n") });
    expect(get(empty, "myns:w", "process.wasm").http).toEqual({ allow: [] });
  });
});

describe("bad registries", () => {
  it("an alias bomb (8 levels of 10 aliases, 1 KB) is one issue naming the file and line, not a hang", () => {
    const bomb = aliasBomb(8);
    expect(bomb.length).toBeLessThan(1024);
    const result = validate({ "bomb.yaml": bomb });
    expect(result.issues.map((issue) => formatIssue(issue, ROOT))).toEqual([
      "src/bomb.yaml:8: YAML aliases expand to more than 10000 copies; an alias bomb? Use fewer aliases (*name) or smaller anchored values",
    ]);
  });

  it("a few levels of aliases still load: the caps are far above what a registry uses", () => {
    const result = validate({ "small.yaml": aliasBomb(3) }); // 1,110 aliases, 11,111 nodes
    expect(result.issues.map((issue) => formatIssue(issue, ROOT))).toEqual([]);
  });

  it("one huge anchored value copied by a few aliases hits the node cap", () => {
    const big = Array.from({ length: 2_000 }, (_, i) => `k${i}`).join(", ");
    const copies = Array.from({ length: 150 }, (_, i) => `  c${i}: *big`).join("\n");
    const result = validate({ "wide.yaml": `namespace: ns\nentries: []\nmeta:\n  big: &big [${big}]\n${copies}\n` });
    // the alias that went over: the 99th copy (c98; each is 2,002 nodes, the anchored list counts too)
    expect(result.issues.map((issue) => formatIssue(issue, ROOT))).toEqual([
      "src/wide.yaml:103: YAML aliases expand to more than 200000 nodes; an alias bomb? Use fewer aliases (*name) or smaller anchored values",
    ]);
  });

  it.each(BAD)("$name", ({ files, env, expect: expected }) => {
    const result = validate(files, env);
    const formatted = result.issues.map((issue) => formatIssue(issue, ROOT));
    const match = result.issues.find((issue) => expected.message.test(issue.message));
    expect(match, `no issue matching ${expected.message}; got:\n${formatted.join("\n")}`).toBeDefined();
    // Exactly one issue: a mistake is reported once, without follow-up noise.
    expect(formatted).toHaveLength(1);
    const issue = match as RegistryIssue;
    expect(path.relative(ROOT, issue.file)).toBe(expected.file);
    expect(issue.line).toBe(expected.line);
    expect(issue.entry).toBe(expected.entry);
    expect(issue.field).toBe(expected.field);
    // The one-line message names all of them, in order.
    const head =
      `${expected.file}${expected.line === undefined ? "" : `:${expected.line}`}: ` +
      [expected.entry && `entry ${expected.entry}`, expected.field && `field ${expected.field}`].filter(Boolean).join(", ");
    expect(formatIssue(issue, ROOT).startsWith(head)).toBe(true);
  });

  it("reports all issues at once", () => {
    const result = validate({
      "base.yaml": BASE,
      "app.yaml": wasm("    imports: [wasi:nope]\n", { hash: "sha256:xyz", fs: "nothing" }),
    });
    expect(result.issues.map((issue) => issue.field).sort()).toEqual(["fs", "hash", "imports[0]"]);
  });

  it("formats issues as one line each, relative to the root", () => {
    const error = new RegistryError(
      [
        { file: "/proj/src/b.yaml", line: 2, message: "second" },
        { file: "/proj/src/app.yaml", line: 12, entry: "myns:worker", field: "hash", message: "must be 'sha256:' followed by 64 hex digits" },
        { file: "/elsewhere/x.yaml", message: "outside" },
      ],
      ROOT,
    );
    expect(error.message.split("\n")).toEqual([
      "/elsewhere/x.yaml: outside",
      "src/app.yaml:12: entry myns:worker, field hash: must be 'sha256:' followed by 64 hex digits",
      "src/b.yaml:2: second",
    ]);
    expect(error.issues).toHaveLength(3);
    expect(error).toBeInstanceOf(Error);
  });

  it("substituteEnv reports every unset variable", () => {
    const result = substituteEnv("${env:A}-${env:B|b}-${env:C}", { B: undefined });
    expect(result.errors).toHaveLength(2);
    expect(result.errors[0]).toMatch(/environment variable A is not set/);
    expect(result.errors[1]).toMatch(/environment variable C is not set/);
  });
});

// ---------------------------------------------------------------------------
// Loading from disk: project root, source folder, auto_init.

describe("loadRegistry", () => {
  const temps: string[] = [];
  afterEach(async () => {
    for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function project(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), "wippy-registry-"));
    temps.push(dir);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    return dir;
  }

  const DIR_ENTRY = (ns: string, name: string, dir: string, extra = ""): string =>
    `namespace: ${ns}\nentries:\n  - name: ${name}\n    kind: fs.directory\n    directory: ${dir}\n${extra}`;

  it("uses directories.src from wippy.lock, found from a nested cwd", async () => {
    const dir = await project({
      "wippy.lock": "directories:\n  src: ./defs\n",
      "defs/app.yaml": DIR_ENTRY("app", "bins", "./wasm"),
      "defs/nested/more.yml": "namespace: app.more\nentries:\n  - name: term\n    kind: terminal.host\n",
      "defs/not-a-definition.yaml": "title: some other config\nitems: [1, 2]\n",
      "defs/node_modules/x.yaml": "namespace: bad\nentries: nope\n",
      "defs/.hidden/x.yaml": "namespace: bad\nentries: nope\n",
      "src/ignored.yaml": "namespace: bad\nentries: nope\n",
      "wasm/.keep": "",
    });
    const registry = await loadRegistry({ cwd: path.join(dir, "defs", "nested"), env: {} });
    expect(registry.root).toBe(dir);
    expect(registry.src).toBe(path.join(dir, "defs"));
    expect(registry.files).toEqual([path.join(dir, "defs/app.yaml"), path.join(dir, "defs/nested/more.yml")]);
    expect([...registry.entries.keys()]).toEqual(["app:bins", "app.more:term"]);
    expect(registry.entries.get("app:bins")).toMatchObject({ directory: path.join(dir, "wasm") });
  });

  it("falls back to ./src, then to the root; options override", async () => {
    const withSrc = await project({ "src/app.yaml": DIR_ENTRY("a", "d", "/"), "other/app.yaml": DIR_ENTRY("b", "d", "/") });
    expect([...(await loadRegistry({ root: withSrc, env: {} })).entries.keys()]).toEqual(["a:d"]);
    expect([...(await loadRegistry({ root: withSrc, src: "other", env: {} })).entries.keys()]).toEqual(["b:d"]);
    const flat = await project({ "app.yaml": DIR_ENTRY("c", "d", "/") });
    const registry = await loadRegistry({ cwd: flat, env: {} });
    expect(registry.src).toBe(flat);
    expect([...registry.entries.keys()]).toEqual(["c:d"]);
  });

  it("creates auto_init folders, and reports missing ones without it", async () => {
    const dir = await project({ "src/app.yaml": DIR_ENTRY("a", "data", "./var/data", "    auto_init: true\n") });
    await loadRegistry({ root: dir, env: {} });
    expect((await stat(path.join(dir, "var/data"))).isDirectory()).toBe(true);

    const missing = await project({ "src/app.yaml": DIR_ENTRY("a", "data", "./nope") });
    const error = await loadRegistry({ root: missing, env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).message).toBe(
      `src/app.yaml:3: entry a:data, field directory: directory ${path.join(missing, "nope")} does not exist (create it or set auto_init: true)`,
    );
  });

  it("creates nothing when the registry has other errors", async () => {
    const dir = await project({
      "src/app.yaml": DIR_ENTRY("a", "data", "./var/data", "    auto_init: true\n  - name: x\n    kind: nope\n"),
    });
    await expect(loadRegistry({ root: dir, env: {} })).rejects.toThrow(/unknown kind "nope"/);
    await expect(stat(path.join(dir, "var/data"))).rejects.toThrow();
  });

  it("throws all issues across files, with env from the options", async () => {
    const dir = await project({
      "src/a.yaml": DIR_ENTRY("a", "d", "${env:NOPE}"),
      "src/b.yaml": "namespace: a\nentries:\n  - name: d\n    kind: terminal.host\n  - name: w\n    kind: process.wasm\n",
      "src/c.yaml": "namespace: a\nentries: [\n",
    });
    const error = (await loadRegistry({ root: dir, env: {} }).catch((caught: unknown) => caught)) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    const text = error.message;
    expect(text).toContain("src/a.yaml:5: entry a:d, field directory: environment variable NOPE is not set");
    expect(text).toContain("src/b.yaml:3: entry a:d: duplicate entry ID a:d: also defined at src/a.yaml:3");
    expect(text).toContain("src/b.yaml:5: entry a:w, field fs: is required");
    expect(text).toMatch(/src\/c.yaml:\d+: malformed YAML/);
    expect(error.issues.length).toBeGreaterThanOrEqual(6);
  });

  it("reports a bad wippy.lock", async () => {
    const dir = await project({ "wippy.lock": "directories:\n  src: [a]\n" });
    await expect(loadRegistry({ cwd: dir, env: {} })).rejects.toThrow("wippy.lock:2: field directories.src: must be a folder path (got a list)");
    const missing = await project({ "wippy.lock": "directories:\n  src: ./gone\n" });
    await expect(loadRegistry({ cwd: missing, env: {} })).rejects.toThrow(/wippy.lock:2: field directories.src: source folder .*gone does not exist/);
  });

  it("leaves the files on disk untouched", async () => {
    const dir = await project({ "src/app.yaml": DIR_ENTRY("a", "d", "/") });
    await loadRegistry({ root: dir, env: {} });
    expect(await readFile(path.join(dir, "src/app.yaml"), "utf8")).toBe(DIR_ENTRY("a", "d", "/"));
  });
});
