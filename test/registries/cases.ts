// Registries for test/registry.test.ts: the seed's example and the table of
// bad registries, each naming the file, line, entry and field it must report.

export const HASH = "292b796376f8b4cc360acf2ea6b82d1084871c3607a079f30b446da8e5c984a4";

// The seed's example (process-wasm.de.txt), gathered into one definition file.
export const SEED = `version: "1.0"
namespace: myns
entries:
  - name: wasm_binaries
    kind: fs.directory
    directory: ./wasm

  - name: compute_worker
    kind: process.wasm
    fs: myns:wasm_binaries
    path: /worker.wasm
    hash: sha256:${HASH}
    method: compute

  - name: greet
    kind: process.wasm
    meta:
      command:
        name: greet
        short: Greet someone via WASM
    fs: myns:wasm_binaries
    path: /component.wasm
    hash: sha256:${HASH.toUpperCase()}
    method: greet

  - name: api_url
    kind: env.variable
    variable: API_URL
    default: http://localhost:8080

  - name: output_format
    kind: env.variable
    default: csv

  - name: input_data
    kind: fs.directory
    directory: ./data/in
  - name: output_dir
    kind: fs.directory
    directory: /var/out

  - name: http_worker
    kind: process.wasm
    fs: myns:wasm_binaries
    path: /http_worker.wasm
    hash: sha256:${HASH}
    method: run
    imports:
      - wasi:io
      - wasi:cli
      - wasi:http
    wasi:
      env:
        - id: myns:api_url
          name: API_URL
          required: true

  - name: file_processor
    kind: process.wasm
    fs: myns:wasm_binaries
    path: /processor.wasm
    hash: sha256:${HASH}
    method: process
    imports:
      - wasi:cli
      - wasi:io
      - wasi:clocks
      - wasi:filesystem
    wasi:
      args: ["--input", "/data/input.csv"]
      cwd: "/app"
      env:
        - id: myns:output_format
          name: OUTPUT_FORMAT
      mounts:
        - fs: myns:input_data
          guest: /data
          read_only: true
        - fs: myns:output_dir
          guest: /output

  - name: processes
    kind: process.host
  - name: terminal
    kind: terminal.host
`;

// ---------------------------------------------------------------------------
// Bad registries: each case names the file, line, entry and field it expects.

export const BASE = `namespace: myns
entries:
  - name: bins
    kind: fs.directory
    directory: /bins
  - name: host
    kind: process.host
  - name: api_url
    kind: env.variable
    default: x
  - name: worker
    kind: process.wasm
    fs: bins
    path: /w.wasm
    hash: sha256:${HASH}
    method: run
`;

/** A process.wasm entry "w" at line 3 of app.yaml, fields from line 4; `extra` lines follow from line 9. */
export function wasm(extra: string, overrides: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    fs: "myns:bins",
    path: "/w.wasm",
    hash: `sha256:${HASH}`,
    method: "run",
    ...overrides,
  };
  const lines = Object.entries(fields)
    .filter(([, value]) => value !== "")
    .map(([key, value]) => `    ${key}: ${value}`);
  return `namespace: myns\nentries:\n  - name: w\n    kind: process.wasm\n${lines.join("\n")}\n${extra}`;
}

export interface BadCase {
  name: string;
  files: Record<string, string>;
  env?: Record<string, string>;
  /** Expected issue; `file` is relative to /proj. */
  expect: { file: string; line?: number; entry?: string; field?: string; message: RegExp };
}

export const BAD: BadCase[] = [
  {
    name: "unknown kind",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: x\n    kind: process.wsam\n` },
    expect: { file: "src/app.yaml", line: 4, entry: "myns:x", field: "kind", message: /unknown kind "process.wsam" \(did you mean "process.wasm"\?\); known kinds: fs.directory, process.wasm/ },
  },
  {
    name: "missing hash",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { hash: "" }) },
    expect: { file: "src/app.yaml", line: 3, entry: "myns:w", field: "hash", message: /is required: .*sha256/ },
  },
  {
    name: "malformed hash",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { hash: "sha256:abc" }) },
    expect: { file: "src/app.yaml", line: 7, entry: "myns:w", field: "hash", message: /must be 'sha256:' followed by 64 hex digits/ },
  },
  {
    name: "hash with another algorithm",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { hash: `md5:${HASH}` }) },
    expect: { file: "src/app.yaml", line: 7, entry: "myns:w", field: "hash", message: /sha256:/ },
  },
  {
    name: "missing method",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { method: "" }) },
    expect: { file: "src/app.yaml", line: 3, entry: "myns:w", field: "method", message: /is required/ },
  },
  {
    name: "duplicate id across two files",
    files: { "base.yaml": BASE, "app.yaml": wasm("").replace("name: w", "name: worker") },
    expect: { file: "src/app.yaml", line: 3, entry: "myns:worker", message: /duplicate entry ID myns:worker: also defined at src\/base.yaml:11/ },
  },
  {
    name: "dangling fs reference",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { fs: "myns:binz" }) },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:w", field: "fs", message: /refers to myns:binz, which is not defined \(did you mean "myns:bins"\?\)/ },
  },
  {
    name: "reference to an entry of the wrong kind",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { fs: "host" }) },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:w", field: "fs", message: /refers to myns:host, which is a process.host; expected an entry of kind fs.directory/ },
  },
  {
    name: "malformed reference",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { fs: "a:b:c" }) },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:w", field: "fs", message: /must be an entry ID "namespace:name"/ },
  },
  {
    name: "bad duration",
    files: { "base.yaml": BASE, "app.yaml": wasm("    limits:\n      max_execution_ms: 5 secs\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "limits.max_execution_ms", message: /must be a duration like "250ms"/ },
  },
  {
    name: "bad size",
    files: { "base.yaml": BASE, "app.yaml": wasm("    limits:\n      max_memory: 16 megs\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "limits.max_memory", message: /must be a number of bytes or a size like "64KiB"/ },
  },
  {
    name: "non-positive fuel",
    files: { "base.yaml": BASE, "app.yaml": wasm("    limits:\n      fuel: 0\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "limits.fuel", message: /must be a positive integer/ },
  },
  {
    name: "unknown import",
    files: { "base.yaml": BASE, "app.yaml": wasm("    imports:\n      - wasi:io\n      - wasi:htp\n") },
    expect: { file: "src/app.yaml", line: 11, entry: "myns:w", field: "imports[1]", message: /unknown interface "wasi:htp" \(did you mean "wasi:http"\?\); valid: wasi:cli, wasi:io/ },
  },
  {
    name: "imports given as a string",
    files: { "base.yaml": BASE, "app.yaml": wasm("    imports: wasi:io\n") },
    expect: { file: "src/app.yaml", line: 9, entry: "myns:w", field: "imports", message: /must be a list of WASI interfaces \(got the string "wasi:io"\)/ },
  },
  {
    name: "http.allow item that is a URL",
    files: { "base.yaml": BASE, "app.yaml": wasm("    http:\n      allow:\n        - api.example.com\n        - https://example.com\n") },
    expect: { file: "src/app.yaml", line: 12, entry: "myns:w", field: "http.allow[1]", message: /"https:\/\/example.com" is a URL: list its host instead/ },
  },
  {
    name: "http.allow CIDR with host bits set",
    files: { "base.yaml": BASE, "app.yaml": wasm("    http:\n      allow: [10.1.2.3/8]\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "http.allow[0]", message: /"10.1.2.3\/8" has bits set past its \/8 prefix; did you mean 10.0.0.0\/8\?/ },
  },
  {
    name: "http.allow given as a string",
    files: { "base.yaml": BASE, "app.yaml": wasm("    http:\n      allow: localhost\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "http.allow", message: /must be a list of destinations \(host, host:port, \*\.domain, IP or CIDR\) \(got the string "localhost"\)/ },
  },
  {
    name: "unknown field under http",
    files: { "base.yaml": BASE, "app.yaml": wasm("    http:\n      alow: [localhost]\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "http.alow", message: /unknown field \(did you mean "allow"\?\)/ },
  },
  {
    name: "relative mount guest path",
    files: { "base.yaml": BASE, "app.yaml": wasm("    wasi:\n      mounts:\n        - fs: bins\n          guest: data\n") },
    expect: { file: "src/app.yaml", line: 12, entry: "myns:w", field: "wasi.mounts[0].guest", message: /must be an absolute guest path/ },
  },
  {
    name: "two mounts at one guest path",
    files: {
      "base.yaml": BASE,
      "app.yaml": wasm("    wasi:\n      mounts:\n        - fs: bins\n          guest: /data\n        - fs: bins\n          guest: /data/\n"),
    },
    expect: { file: "src/app.yaml", line: 14, entry: "myns:w", field: "wasi.mounts[1].guest", message: /guest path \/data is already mounted by wasi.mounts\[0\]/ },
  },
  {
    name: "relative wasi cwd",
    files: { "base.yaml": BASE, "app.yaml": wasm("    wasi:\n      cwd: app\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "wasi.cwd", message: /absolute guest path/ },
  },
  {
    name: "wasi env binding to a non-env.variable",
    files: { "base.yaml": BASE, "app.yaml": wasm("    wasi:\n      env:\n        - id: bins\n          name: API_URL\n") },
    expect: { file: "src/app.yaml", line: 11, entry: "myns:w", field: "wasi.env[0].id", message: /which is a fs.directory; expected an entry of kind env.variable/ },
  },
  {
    name: "invalid wasi env name",
    files: { "base.yaml": BASE, "app.yaml": wasm("    wasi:\n      env:\n        - id: api_url\n          name: API-URL\n") },
    expect: { file: "src/app.yaml", line: 12, entry: "myns:w", field: "wasi.env[0].name", message: /not a valid environment variable name/ },
  },
  {
    name: "path escaping the fs.directory",
    files: { "base.yaml": BASE, "app.yaml": wasm("", { path: "/../etc/passwd" }) },
    expect: { file: "src/app.yaml", line: 6, entry: "myns:w", field: "path", message: /must stay inside the fs.directory/ },
  },
  {
    name: "malformed YAML",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: x\n    kind: [fs.directory\n  - name: y\n` },
    expect: { file: "src/app.yaml", line: 5, message: /malformed YAML/ },
  },
  {
    name: "file that is not a mapping",
    files: { "app.yaml": `- namespace: myns\n- entries: []\n` },
    expect: { file: "src/app.yaml", line: 1, message: /must be a mapping with namespace: and entries: \(got a list\)/ },
  },
  {
    name: "entries not a list",
    files: { "app.yaml": `namespace: myns\nentries:\n  name: x\n  kind: fs.directory\n` },
    expect: { file: "src/app.yaml", line: 3, field: "entries", message: /must be a list of entries/ },
  },
  {
    name: "missing namespace",
    files: { "app.yaml": `entries:\n  - name: x\n    kind: terminal.host\n` },
    expect: { file: "src/app.yaml", line: 1, field: "namespace", message: /is required/ },
  },
  {
    name: "entry without a name",
    files: { "app.yaml": `namespace: myns\nentries:\n  - kind: terminal.host\n` },
    expect: { file: "src/app.yaml", line: 3, field: "name", message: /entries\[0\] has no name; every entry needs name: and kind:/ },
  },
  {
    name: "entry without a kind",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: t\n` },
    expect: { file: "src/app.yaml", line: 3, entry: "myns:t", field: "kind", message: /myns:t has no kind/ },
  },
  {
    name: "invalid entry name",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: my worker\n    kind: terminal.host\n` },
    expect: { file: "src/app.yaml", line: 3, field: "name", message: /name "my worker" is not valid/ },
  },
  {
    name: "unknown field (typo)",
    files: { "base.yaml": BASE, "app.yaml": wasm("    hsah: x\n") },
    expect: { file: "src/app.yaml", line: 9, entry: "myns:w", field: "hsah", message: /unknown field \(did you mean "hash"\?\)/ },
  },
  {
    name: "unknown nested field",
    files: { "base.yaml": BASE, "app.yaml": wasm("    wasi:\n      argz: [a]\n") },
    expect: { file: "src/app.yaml", line: 10, entry: "myns:w", field: "wasi.argz", message: /unknown field \(did you mean "args"\?\)/ },
  },
  {
    name: "bad restart policy",
    files: {
      "base.yaml": BASE,
      "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: worker\n    host: host\n    lifecycle:\n      restart:\n        policy: always\n`,
    },
    expect: { file: "src/app.yaml", line: 9, entry: "myns:s", field: "lifecycle.restart.policy", message: /"always" is not one of permanent, transient, temporary/ },
  },
  {
    name: "backoff factor below 1",
    files: {
      "base.yaml": BASE,
      "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: worker\n    host: host\n    lifecycle:\n      restart:\n        backoff_factor: 0.5\n`,
    },
    expect: { file: "src/app.yaml", line: 9, entry: "myns:s", field: "lifecycle.restart.backoff_factor", message: /must be a number >= 1/ },
  },
  {
    name: "service without host",
    files: { "base.yaml": BASE, "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: worker\n` },
    expect: { file: "src/app.yaml", line: 3, entry: "myns:s", field: "host", message: /is required/ },
  },
  {
    name: "service process pointing at a host",
    files: { "base.yaml": BASE, "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: host\n    host: host\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:s", field: "process", message: /which is a process.host; expected an entry of kind process.wasm/ },
  },
  {
    name: "actor module not a file:// URL",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: counter\n    kind: process.actor\n    module: ./counter.ts\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:counter", field: "module", message: /"\.\/counter\.ts" must be file:\/\/<path>, relative to the definition file/ },
  },
  {
    name: "actor module outside the source folder",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: counter\n    kind: process.actor\n    module: file://../lib/counter.ts\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:counter", field: "module", message: /resolves to \/proj\/lib\/counter\.ts, outside the source folder \/proj\/src; move the module into it/ },
  },
  {
    name: "actor with an unknown field",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: counter\n    kind: process.actor\n    modul: file://counter.ts\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:counter", field: "modul", message: /unknown field \(did you mean "module"\?\)/ },
  },
  {
    name: "unknown strategy",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: sup\n    kind: process.supervisor\n    strategy: one_for_some\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:sup", field: "strategy", message: /"one_for_some" is not one of one_for_one, one_for_all, rest_for_one/ },
  },
  {
    name: "negative intensity",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: sup\n    kind: process.supervisor\n    intensity: -1\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:sup", field: "intensity", message: /must be an integer >= 0/ },
  },
  {
    name: "supervisor child cycle",
    files: {
      "app.yaml": `namespace: myns\nentries:\n  - name: a\n    kind: process.supervisor\n    children: [b]\n  - name: b\n    kind: process.supervisor\n    children:\n      - a\n`,
    },
    expect: { file: "src/app.yaml", line: 9, entry: "myns:b", field: "children[0]", message: /supervisor cycle myns:a -> myns:b -> myns:a/ },
  },
  {
    name: "child in two supervisors",
    files: {
      "base.yaml": BASE,
      "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: worker\n    host: host\n  - name: sup1\n    kind: process.supervisor\n    children: [s]\n  - name: sup2\n    kind: process.supervisor\n    children:\n      - s\n`,
    },
    expect: { file: "src/app.yaml", line: 13, entry: "myns:sup2", field: "children[0]", message: /myns:s is already a child of myns:sup1 \(src\/app.yaml:7\)/ },
  },
  {
    name: "child listed twice",
    files: {
      "base.yaml": BASE,
      "app.yaml": `namespace: myns\nentries:\n  - name: s\n    kind: process.service\n    process: worker\n    host: host\n  - name: sup\n    kind: process.supervisor\n    children:\n      - s\n      - myns:s\n`,
    },
    expect: { file: "src/app.yaml", line: 11, entry: "myns:sup", field: "children[1]", message: /myns:s is listed twice/ },
  },
  {
    name: "supervisor child of the wrong kind",
    files: { "base.yaml": BASE, "app.yaml": `namespace: myns\nentries:\n  - name: sup\n    kind: process.supervisor\n    children: [worker]\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:sup", field: "children[0]", message: /which is a process.wasm; expected an entry of kind process.service or process.supervisor/ },
  },
  {
    name: "missing env var without default",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: d\n    kind: fs.directory\n    directory: \${env:WASM_HOME}/bin\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:d", field: "directory", message: /environment variable WASM_HOME is not set \(set it, or give a default/ },
  },
  {
    name: "duplicate command name",
    files: {
      "base.yaml": BASE,
      "app.yaml": wasm("    meta:\n      command:\n        name: greet\n  - name: w2\n    kind: function.wasm\n    fs: bins\n    path: /w2.wasm\n    hash: sha256:" + HASH + "\n    method: run\n    meta:\n      command: { name: greet }\n"),
    },
    expect: { file: "src/app.yaml", line: 19, entry: "myns:w2", field: "meta.command.name", message: /command name "greet" is already used by myns:w \(src\/app.yaml:11\)/ },
  },
  {
    name: "command without a name",
    files: { "base.yaml": BASE, "app.yaml": wasm("    meta:\n      command:\n        short: Greets\n") },
    expect: { file: "src/app.yaml", line: 11, entry: "myns:w", field: "meta.command.name", message: /is required/ },
  },
  {
    name: "wrong type: string where a boolean is expected",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: d\n    kind: fs.directory\n    directory: /x\n    auto_init: "yes"\n` },
    expect: { file: "src/app.yaml", line: 6, entry: "myns:d", field: "auto_init", message: /must be true or false \(got the string "yes"\)/ },
  },
  {
    name: "wrong type: list where a mapping is expected",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: h\n    kind: process.host\n    host: [1, 2]\n` },
    expect: { file: "src/app.yaml", line: 5, entry: "myns:h", field: "host", message: /must be a mapping of fields \(got a list\)/ },
  },
  {
    name: "negative workers",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: h\n    kind: process.host\n    host:\n      workers: -2\n` },
    expect: { file: "src/app.yaml", line: 6, entry: "myns:h", field: "host.workers", message: /must be a whole number of worker threads \(0 = the main thread\) or auto/ },
  },
  {
    name: "fs.directory without directory",
    files: { "app.yaml": `namespace: myns\nentries:\n  - name: d\n    kind: fs.directory\n` },
    expect: { file: "src/app.yaml", line: 3, entry: "myns:d", field: "directory", message: /is required/ },
  },
  {
    name: "invalid namespace",
    files: { "app.yaml": `namespace: my ns\nentries: []\n` },
    expect: { file: "src/app.yaml", line: 1, field: "namespace", message: /namespace "my ns" is not valid/ },
  },
  {
    name: "unsupported version",
    files: { "app.yaml": `version: "2.0"\nnamespace: myns\nentries: []\n` },
    expect: { file: "src/app.yaml", line: 1, field: "version", message: /unsupported version "2.0"/ },
  },
];


/**
 * A billion laughs in about 1 KB: `levels` anchors, each a list of ten aliases to the one
 * before, under meta:. Eight levels expand to 10^8 strings. Level i sits on line 4 + i.
 */
export function aliasBomb(levels = 8): string {
  let text = `namespace: ns\nentries: []\nmeta:\n  lol0: &lol0 ["${"lol".repeat(20)}"]\n`;
  for (let i = 1; i <= levels; i++) text += `  lol${i}: &lol${i} [${Array.from({ length: 10 }, () => `*lol${i - 1}`).join(", ")}]\n`;
  return text;
}
