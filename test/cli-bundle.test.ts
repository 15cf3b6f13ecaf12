// The CLI as it starts from a build (issue 17, item 4): `npm run build` bundles it into
// dist/cli/ (scripts/build-cli.ts), bin/wippy.js runs that bundle, and a warm
// `wippy run greet Ada` loads no package from node_modules: not XState (no actor runs),
// not the YAML parser (the validated registry comes from the cache). How fast that is,
// against `node -e 0`, is a row of `npm run bench -- --only cli`, not a test.

import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { digest } from "../src/wasm/cache-trust.ts";
import { REPO } from "./helpers/project.ts";

const BIN = join(REPO, "bin", "wippy.js");
const BUNDLE = join(REPO, "dist", "cli");
const hello = join(REPO, "examples", "hello");

/** A preload that writes every module URL this process loads (import or require) to $LOADED_LOG at exit. */
function loadLogger(): string {
  const file = join(mkdtempSync(join(tmpdir(), "wippy-bundle-test-")), "log-loads.mjs");
  writeFileSync(file, `import { registerHooks } from "node:module";
import { writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
const seen = [];
registerHooks({ load(url, context, next) { seen.push(url); return next(url, context); } });
if (isMainThread) process.on("exit", () => writeFileSync(process.env.LOADED_LOG, seen.join("\\n")));
`);
  return file;
}

function wippy(cwd: string, args: string[], cache: string, opts: { logLoads?: boolean; env?: Record<string, string> } = {}) {
  const log = join(mkdtempSync(join(tmpdir(), "wippy-bundle-loads-")), "loaded.txt");
  const r = spawnSync(process.execPath, [...(opts.logLoads ? ["--import", pathToFileURL(loadLogger()).href] : []), BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, WIPPY_CACHE_DIR: cache, LOADED_LOG: log, ...opts.env },
    input: "",
    timeout: 60_000,
  });
  const loaded = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

function newestSource(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => statSync(join(e.parentPath, e.name)).mtimeMs));
}

const freshCache = () => join(mkdtempSync(join(tmpdir(), "wippy-bundle-cache-")), "cache");

describe("the CLI bundle", () => {
  it("npm run build leaves dist/cli/wippy.js and its worker entry, newer than every source", () => {
    for (const file of ["wippy.js", "worker.js"]) expect(existsSync(join(BUNDLE, file)), `dist/cli/${file} is missing: run npm run build`).toBe(true);
    const built = statSync(join(BUNDLE, "wippy.js")).mtimeMs;
    for (const dir of ["src", "machines", "supervisors"]) expect(newestSource(join(REPO, dir)) <= built, `${dir}/ changed after the bundle was built: run npm run build`).toBe(true);
  });

  it("a warm `wippy run greet Ada` runs the bundle, takes the validated registry from the cache, and loads nothing from node_modules (no XState, no YAML parser)", () => {
    const cache = freshCache();
    const cold = wippy(hello, ["run", "greet", "Ada"], cache);
    expect(cold).toMatchObject({ code: 0, stdout: "Hello, Ada!\n" });
    // the first run left the validated registry and Node's compiled code in the private cache
    expect(readdirSync(join(cache, "registry")).some((f) => f.endsWith(".json"))).toBe(true);
    for (const dir of ["registry", "node-compile-cache"]) expect(statSync(join(cache, dir)).mode & 0o777, dir).toBe(0o700);
    const warm = wippy(hello, ["run", "greet", "Ada"], cache, { logLoads: true });
    expect(warm).toMatchObject({ code: 0, stdout: "Hello, Ada!\n", stderr: "" });
    expect(warm.loaded).toContain(pathToFileURL(join(BUNDLE, "wippy.js")).href);
    expect(warm.loaded.filter((url) => url.includes("/node_modules/"))).toEqual([]);
    expect(warm.loaded.filter((url) => url.includes("/src/"))).toEqual([]);
    // the record is what the CLI reads while the YAML is unchanged: an edit to it (digest kept right) shows
    const record = join(cache, "registry", readdirSync(join(cache, "registry")).find((f) => f.endsWith(".json"))!);
    const text = readFileSync(record, "utf8").replaceAll("Greet someone via WASM", "Greet someone, from the cache");
    writeFileSync(record, text);
    writeFileSync(record.replace(/\.json$/, ".sha256"), digest(text));
    expect(wippy(hello, ["run", "list"], cache).stdout).toMatch(/^greet\s+Greet someone, from the cache$/m);
  });

  it("loads XState, from node_modules and once, for a registry that declares a supervisor", () => {
    const project = join(mkdtempSync(join(tmpdir(), "wippy-bundle-sup-")), "hello");
    cpSync(hello, project, { recursive: true });
    appendFileSync(join(project, "src", "main.yaml"), `
  - { name: greeter, kind: process.service, process: greet, host: processes, input: ["Bob"] }
  - { name: sup, kind: process.supervisor, strategy: one_for_one, children: [greeter] }
`);
    const r = wippy(project, ["run", "greet", "Ada"], freshCache(), { logLoads: true });
    expect(r).toMatchObject({ code: 0, stdout: "Hello, Ada!\n" });
    expect(r.loaded.filter((url) => /\/node_modules\/xstate\/dist\/xstate\.cjs\.js$/.test(url))).toHaveLength(1);
  });

  it("runs a command on a worker thread from the bundle's worker entry", () => {
    const r = wippy(hello, ["run", "greet", "Ada"], freshCache(), { env: { WIPPY_WORKERS: "1" } });
    expect(r).toMatchObject({ code: 0, stdout: "Hello, Ada!\n" });
  });
});
