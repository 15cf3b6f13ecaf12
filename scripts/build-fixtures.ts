// Rebuilds every test fixture from its source and places the example binaries.
//
//   npm run fixtures                  # everything (C fixtures skipped if clang-19 is missing)
//   npm run fixtures -- core          # only some groups: core | components | c | js
//   npm run fixtures -- greet hello   # or single fixtures by name
//   npm run fixtures -- --check       # rebuild in memory, compare with the files on disk
//
// WAT → core module: jco `parse`. WIT + WAT → component: jco `componentEmbed` +
// `componentNew`. C → preview1 core module: clang-19 --target=wasm32-wasi (wasi-libc);
// → component: jco `componentNew` with the preview1 command/reactor adapter. C guests of
// the process API include include/wippy/process.h; those importing the core-module ABI
// (module "wippy:process") are built as core modules only.
// JS (examples/http-worker) → component: componentize-js; its Wizer snapshot differs from
// build to build, so that one is not byte-reproducible (--check builds it only).
// Every step is a pure function of the sources and tool versions, so the output is
// byte-for-byte reproducible; fixtures/SHA256SUMS records the hashes.
//
// Exit status: 0 on success; 1 if a build failed, if --check found a difference, or if C
// fixtures were asked for explicitly (`c` or a C fixture name) and clang-19 is missing.

import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { accessSync, constants, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  componentEmbed,
  componentNew,
  parse,
  preview1AdapterCommandPath,
  preview1AdapterReactorPath,
} from "@bytecodealliance/jco";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(ROOT, "fixtures");
const CLANG = "clang-19";
const WASM_LD = "wasm-ld-19";
const CLANG_INSTALL =
  "apt-get update && apt-get install -y clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32";
// --strip-debug drops the DWARF that Debian's prebuilt wasi-libc carries (~30% of each
// binary) and keeps the name section, so traps still show function names.
// -I: `#include <wippy/process.h>` (relative: clang runs in fixtures/c).
const CFLAGS = ["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror", "-Wl,--strip-debug", "-I../../include"];

type Group = "core" | "components" | "c" | "js";

interface Fixture {
  name: string;
  group: Group;
  /** False when the tool cannot rebuild the same bytes (componentize-js's snapshot); --check then only builds it. */
  reproducible?: boolean;
  /** builds the fixture; returns [path relative to ROOT, bytes] for each output binary */
  build: () => Promise<Array<[string, Uint8Array]>>;
  /** its output paths (relative to ROOT) when they are not the group's usual ones */
  outputs?: string[];
}

/** binaries copied into the examples (destination ← fixture output, both relative to ROOT) */
const EXAMPLES: Array<[string, string]> = [
  ["examples/compute/wasm/worker.wasm", "fixtures/core/compute.wasm"],
  ["examples/hello/wasm/component.wasm", "fixtures/components/greet/greet.wasm"],
  ["examples/file-processor/wasm/processor.wasm", "fixtures/c/processor.core.wasm"],
  ["examples/supervision-tree/wasm/worker.wasm", "fixtures/core/compute.wasm"],
  ["examples/supervision-tree/wasm/sleeper.wasm", "fixtures/c/sleeper.core.wasm"],
  ["examples/ping-pong/wasm/pingpong.wasm", "fixtures/c/pingpong.core.wasm"],
  ["examples/guest-supervisor/wasm/guest_supervisor.wasm", "fixtures/c/guest_supervisor.core.wasm"],
  ["examples/guest-supervisor/wasm/worker.wasm", "fixtures/core/compute.wasm"],
  ["examples/lua/wasm/worker.wasm", "fixtures/core/compute.wasm"],
  ["examples/lua/wasm/pingpong.wasm", "fixtures/c/pingpong.core.wasm"],
];

const read = (rel: string): string => readFileSync(join(ROOT, rel), "utf8");

function watCore(name: string): Fixture {
  return {
    name,
    group: "core",
    build: async () => [[`fixtures/core/${name}.wasm`, await parse(read(`fixtures/core/${name}.wat`))]],
  };
}

/**
 * a component from a hand-written WAT core module and a WIT world (no WASI, no adapter);
 * with `processApi` the world imports wippy:process
 */
function watComponent(name: string, world: string = name, opts: { processApi?: boolean } = {}): Fixture {
  const dir = `fixtures/components/${name}`;
  return {
    name,
    group: "components",
    build: async () => {
      const core = await parse(read(`${dir}/${name}.wat`));
      const wit = `${dir}/${name}.wit`;
      const embedded = await componentEmbed({
        binary: core,
        witSource: opts.processApi ? withProcessApi(wit) : read(wit),
        world,
        stringEncoding: "utf8",
      });
      return [[`${dir}/${name}.wasm`, await componentNew(embedded)]];
    },
  };
}

/** A world's WIT (it imports wippy:process) with wit/process.wit appended as a nested package: no deps folder needed. */
function withProcessApi(worldWit: string): string {
  const processWit = read("wit/process.wit").replace(/^package (wippy:process@[^;]+);$/m, "package $1 {") + "}\n";
  return `${read(worldWit)}\n${processWit}`;
}

let adapters: { command: Uint8Array; reactor: Uint8Array } | undefined;
function adapter(kind: "command" | "reactor"): Uint8Array {
  adapters ??= {
    command: readFileSync(preview1AdapterCommandPath()),
    reactor: readFileSync(preview1AdapterReactorPath()),
  };
  return adapters[kind];
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function clang(source: string, args: string[]): Uint8Array {
  const clangPath = findOnPath(CLANG);
  const ldPath = findOnPath(WASM_LD);
  if (!clangPath || !ldPath) throw new Error(`${!clangPath ? CLANG : WASM_LD} not found on PATH`);
  const tmp = mkdtempSync(join(tmpdir(), "wippy-fixture-"));
  try {
    // the output's file name becomes the module name in the name section (seen in traces)
    const out = join(tmp, basename(source, ".c") + ".core.wasm");
    // Determinism: clang runs any `wasm-opt` it finds on PATH after linking (npm puts
    // binaryen's on PATH), and clang 19's --no-wasm-opt skips linking altogether. So clang
    // gets a PATH holding only an empty directory and the linker by absolute path.
    // It runs in fixtures/c with a relative source path, so no absolute path leaks in.
    const res = spawnSync(clangPath, [...CFLAGS, `-fuse-ld=${ldPath}`, ...args, source, "-o", out], {
      cwd: join(FIXTURES, "c"),
      env: { ...process.env, PATH: tmp },
      encoding: "utf8",
    });
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(
        `${CLANG} failed for ${source}:\n${res.stderr}` +
          `(the C fixtures need: ${CLANG_INSTALL})`,
      );
    return readFileSync(out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** a C WASI command: X.core.wasm (preview1, exports _start) and X.wasm (wasi:cli/run) */
function cCommand(name: string): Fixture {
  return {
    name,
    group: "c",
    build: async () => {
      const core = clang(`${name}.c`, []);
      const component = await componentNew(core, [["wasi_snapshot_preview1", adapter("command")]]);
      return [
        [`fixtures/c/${name}.core.wasm`, core],
        [`fixtures/c/${name}.wasm`, component],
      ];
    },
  };
}

/**
 * a C WASI reactor exporting the functions of X.wit: X.core.wasm and X.wasm; with
 * `processApi` its world imports wippy:process (wit/process.wit goes in as a nested package)
 */
function cReactor(name: string, world: string, opts: { processApi?: boolean } = {}): Fixture {
  return {
    name,
    group: "c",
    build: async () => {
      const core = clang(`${name}.c`, ["-mexec-model=reactor"]);
      const wit = `fixtures/c/${name}.wit`;
      const embedded = await componentEmbed({
        binary: core,
        witSource: opts.processApi ? withProcessApi(wit) : read(wit),
        world,
        stringEncoding: "utf8",
      });
      const component = await componentNew(embedded, [["wasi_snapshot_preview1", adapter("reactor")]]);
      return [
        [`fixtures/c/${name}.core.wasm`, core],
        [`fixtures/c/${name}.wasm`, component],
      ];
    },
  };
}

/**
 * A C guest of the process API as a preview1 core module only (X.core.wasm): it imports
 * module "wippy:process", which a component cannot import without a WIT world.
 * kind: a command (exports _start) or a reactor (exports its functions).
 */
function cCore(name: string, kind: "command" | "reactor"): Fixture {
  const out = `fixtures/c/${name}.core.wasm`;
  return {
    name,
    group: "c",
    outputs: [out],
    build: async () => [[out, clang(`${name}.c`, kind === "reactor" ? ["-mexec-model=reactor"] : [])]],
  };
}

/**
 * A JavaScript component for an example: componentize-js (StarlingMonkey) from
 * examples/NAME/guest/{app.js,world.wit}, with jco's WASI 0.2.12 WIT as deps, to
 * examples/NAME/wasm/FILE. `disable` turns StarlingMonkey features (and their imports) off.
 */
function jsExample(name: string, file: string, disable: ("random" | "stdio" | "clocks" | "http" | "fetch-event")[]): Fixture {
  return {
    name,
    group: "js",
    reproducible: false,
    build: async () => {
      const guest = join(ROOT, "examples", name, "guest");
      const tmp = mkdtempSync(join(tmpdir(), "wippy-js-"));
      try {
        const wit = join(tmp, "wit");
        mkdirSync(join(wit, "deps"), { recursive: true });
        copyFileSync(join(guest, "world.wit"), join(wit, "world.wit"));
        const builtin = join(ROOT, "node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12");
        cpSync(builtin, join(wit, "deps"), { recursive: true });
        copyFileSync(join(guest, "app.js"), join(tmp, "app.js"));
        // componentize-js reads its inputs through preview2-shim's filesystem, closed until given preopens
        const { _setPreopens } = await import("@bytecodealliance/preview2-shim/filesystem");
        (_setPreopens as (p: Record<string, string>) => void)({ [tmp]: tmp });
        const { componentize } = await import("@bytecodealliance/componentize-js");
        const { component } = await componentize({ sourcePath: join(tmp, "app.js"), witPath: wit, disableFeatures: disable });
        return [[`examples/${name}/wasm/${file}`, component]];
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}

const ALL: Fixture[] = [
  watCore("compute"),
  watCore("nomem"),
  watCore("secrets"),
  watCore("hugemem"),
  watCore("grow"),
  watCore("spew"),
  watCore("process-echo"),
  watComponent("greet"),
  watComponent("types"),
  watComponent("exit-code"),
  watComponent("process-probe", "process-probe", { processApi: true }),
  cCommand("hello"),
  cCommand("sleeper"),
  cCommand("cat"),
  cCommand("files"),
  cCommand("processor"),
  cCommand("crash"),
  cCommand("exit3"),
  cReactor("greet_reactor", "greet-reactor"),
  cReactor("cpu", "cpu"),
  cCore("pingpong", "command"),
  cCore("guest_supervisor", "command"),
  cCore("echo_service", "reactor"),
  cCore("guest_probe", "reactor"),
  cReactor("echo_component", "echo-component", { processApi: true }),
  jsExample("http-worker", "http_worker.wasm", ["random", "stdio", "clocks"]),
];

function hasClang(): boolean {
  return findOnPath(CLANG) !== undefined && findOnPath(WASM_LD) !== undefined;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

function sameBytes(path: string, bytes: Uint8Array): boolean {
  if (!existsSync(path)) return false;
  return Buffer.compare(readFileSync(path), bytes) === 0;
}

/** writes only when the content changed, so unchanged binaries keep their mtime */
function put(rel: string, bytes: Uint8Array): void {
  const path = join(ROOT, rel);
  if (sameBytes(path, bytes)) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

function usage(): never {
  console.error(
    "usage: node scripts/build-fixtures.ts [--check] [core|components|c|<fixture>...]\n" +
      `fixtures: ${ALL.map((f) => f.name).join(", ")}`,
  );
  process.exit(2);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes("-h") || args.includes("--help")) usage();
  const check = args.includes("--check");
  const wanted = args.filter((a) => !a.startsWith("--"));
  for (const w of wanted) {
    if (w !== "core" && w !== "components" && w !== "c" && w !== "js" && !ALL.some((f) => f.name === w)) {
      console.error(`unknown fixture or group: ${w}`);
      usage();
    }
  }
  const selected = wanted.length === 0 ? ALL : ALL.filter((f) => wanted.includes(f.group) || wanted.includes(f.name));
  const cExplicit = selected.some((f) => f.group === "c") && wanted.length > 0;

  const started = performance.now();
  let failed = 0;
  let skippedC = false;
  const built = new Map<string, Uint8Array>();
  const clangOk = selected.some((f) => f.group === "c") ? hasClang() : true;
  if (!clangOk) {
    skippedC = true;
    console.error(
      `${cExplicit ? "error" : "warning"}: ${CLANG} not found — skipping the C fixtures ` +
        `(${selected.filter((f) => f.group === "c").map((f) => f.name).join(", ")}).\n` +
        `  Install it (Debian/Ubuntu): ${CLANG_INSTALL}\n` +
        "  The committed C binaries are left as they are.",
    );
  }

  for (const fixture of selected) {
    if (fixture.group === "c" && !clangOk) continue;
    let outputs: Array<[string, Uint8Array]>;
    try {
      outputs = await fixture.build();
    } catch (err) {
      failed++;
      console.error(`FAILED ${fixture.name}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    for (const [rel, bytes] of outputs) {
      built.set(rel, bytes);
      let note = "";
      if (check && fixture.reproducible === false) {
        note = "  (not byte-reproducible: built, not compared)";
      } else if (check) {
        if (!sameBytes(join(ROOT, rel), bytes)) {
          failed++;
          note = "  DIFFERS from the file on disk";
        }
      } else {
        put(rel, bytes);
      }
      console.log(`sha256:${sha256(bytes)}  ${rel}  (${bytes.length} bytes)${note}`);
    }
  }

  // examples: copies of fixture binaries built in this run
  for (const [dest, src] of EXAMPLES) {
    const bytes = built.get(src);
    if (!bytes) continue;
    let note = "";
    if (check) {
      if (!sameBytes(join(ROOT, dest), bytes)) {
        failed++;
        note = "  DIFFERS from the file on disk";
      }
    } else {
      put(dest, bytes);
    }
    console.log(`sha256:${sha256(bytes)}  ${dest}  (copy of ${src})${note}`);
  }

  // fixtures/SHA256SUMS: every fixture binary on disk, in `sha256sum -c` format
  if (!check) {
    const lines: string[] = [];
    for (const fixture of ALL) {
      for (const rel of outputsOf(fixture)) {
        const path = join(ROOT, rel);
        if (existsSync(path)) lines.push(`${sha256(readFileSync(path))}  ${relative(FIXTURES, path)}`);
      }
    }
    const sums = Buffer.from(lines.join("\n") + "\n");
    put("fixtures/SHA256SUMS", sums);
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const verb = check ? "checked" : "built";
  console.log(`${verb} ${built.size} binaries in ${seconds}s${skippedC ? " (C fixtures skipped)" : ""}`);
  if (failed > 0) console.error(`${failed} failure(s)`);
  return failed > 0 || (skippedC && cExplicit) ? 1 : 0;
}

function outputsOf(fixture: Fixture): string[] {
  if (fixture.outputs) return fixture.outputs;
  switch (fixture.group) {
    case "core":
      return [`fixtures/core/${fixture.name}.wasm`];
    case "components":
      return [`fixtures/components/${fixture.name}/${fixture.name}.wasm`];
    case "c":
      return [`fixtures/c/${fixture.name}.core.wasm`, `fixtures/c/${fixture.name}.wasm`];
    case "js":
      return []; // example binaries: their hash is in the example's YAML
  }
}

process.exitCode = await main();
