// The disk cache runs on the next `wippy run`, so it is private and checked (issue 13,
// item 4): folders 0700, files 0600, nothing another user owns or can write is read, and
// every artifact must match the digest recorded when it was written. And the CLI says
// "preparing … for its first run" only when something is built, never on a warm run
// (item 12).

import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { Runtime } from "../src/index.ts";
import { untrusted } from "../src/wasm/cache-trust.ts";
import { captureStdio, makeProject, REPO, sha256 } from "./helpers/project.ts";

const BIN = join(REPO, "bin", "wippy.js");
const hello = join(REPO, "examples", "hello"); // a component
const compute = join(REPO, "examples", "compute"); // a core module

function wippy(cwd: string, args: string[], cacheDir: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, WIPPY_CACHE_DIR: cacheDir }, input: "", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const freshCache = () => join(mkdtempSync(join(tmpdir(), "wippy-cache-test-")), "cache");
const mode = (path: string) => statSync(path).mode & 0o777;
const only = (dir: string) => {
  const names = readdirSync(dir);
  expect(names).toHaveLength(1);
  return join(dir, names[0]!);
};

describe("the transpile and instrumentation cache", () => {
  it("is created 0700 (every folder) with 0600 files, digests beside them", () => {
    const cache = freshCache(); // does not exist yet
    expect(wippy(hello, ["run", "greet", "Ada"], cache)).toMatchObject({ code: 0, stdout: "Hello, Ada!\n" });
    const entry = only(join(cache, "components"));
    for (const folder of [cache, join(cache, "components"), join(cache, "instrumented"), entry]) expect(mode(folder), folder).toBe(0o700);
    for (const file of readdirSync(entry)) expect(mode(join(entry, file)), file).toBe(0o600);
    expect(Object.keys(JSON.parse(readFileSync(join(entry, "manifest.json"), "utf8")) as object)).toEqual(expect.arrayContaining(["component.js", "meta.json"]));
    expect(readdirSync(join(cache, "instrumented")).filter((f) => f.endsWith(".sha256")).length).toBeGreaterThan(0);
  });

  it("a line appended to a cached component.js never runs: the entry fails its digest and is transpiled again", () => {
    const cache = freshCache();
    expect(wippy(hello, ["run", "greet", "Ada"], cache)).toMatchObject({ code: 0, stdout: "Hello, Ada!\n" });
    const js = join(only(join(cache, "components")), "component.js");
    const original = readFileSync(js, "utf8");
    const marker = join(cache, "..", "appended-code-ran");
    appendFileSync(js, `\nprocess.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
    expect(wippy(hello, ["run", "greet", "Bob"], cache)).toMatchObject({ code: 0, stdout: "Hello, Bob!\n" });
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(js, "utf8")).toBe(original);
  });

  it("corrupt instrumented bytes are instrumented again, not compiled", () => {
    const cache = freshCache();
    expect(wippy(compute, ["run", "-x", "myns:compute_worker", "6", "7"], cache)).toMatchObject({ code: 0, stdout: "42\n" });
    const wasm = readdirSync(join(cache, "instrumented")).find((f) => f.endsWith(".wasm"))!;
    const original = readFileSync(join(cache, "instrumented", wasm));
    appendFileSync(join(cache, "instrumented", wasm), Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(wippy(compute, ["run", "-x", "myns:compute_worker", "6", "7"], cache)).toMatchObject({ code: 0, stdout: "42\n" });
    expect(readFileSync(join(cache, "instrumented", wasm))).toEqual(original);
  });

  it("a cache folder others can write is refused with one line naming it and the fix", () => {
    const cache = freshCache();
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    const r = wippy(hello, ["run", "greet", "Ada"], cache);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toBe(
      `wippy: myns:greet failed (spawn): myns:greet: cache folder ${cache} is writable by group and others (mode 777); run chmod 700 ${cache} or set WIPPY_CACHE_DIR to a folder only you can write\n`,
    );
  });

  it("a cached file others can write is refused too", () => {
    const cache = freshCache();
    expect(wippy(hello, ["run", "greet", "Ada"], cache).code).toBe(0);
    const js = join(only(join(cache, "components")), "component.js");
    chmodSync(js, 0o646);
    const r = wippy(hello, ["run", "greet", "Ada"], cache);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cache file ${js} is writable by others (mode 646); run chmod 600 ${js} or set WIPPY_CACHE_DIR`);
  });

  it("a folder or file that another user owns is refused", () => {
    expect(untrusted("/c", "folder", { uid: 1001, mode: 0o700 }, 1000)).toBe(
      "cache folder /c belongs to another user (uid 1001, you are 1000); chown it to yourself or set WIPPY_CACHE_DIR to a folder only you can write",
    );
    expect(untrusted("/c/x.js", "file", { uid: 1000, mode: 0o664 }, 1000)).toMatch(/^cache file \/c\/x\.js is writable by group \(mode 664\); run chmod 600/);
    expect(untrusted("/c", "folder", { uid: 1000, mode: 0o755 }, 1000)).toBeUndefined();
  });
});

describe("preparing a binary (onPrepare)", () => {
  it("is reported when the cache is empty, and not on a warm run from the same cache", async () => {
    const cacheDir = freshCache();
    const run = async () => {
      const prepared: string[] = [];
      const rt = await Runtime.open({ root: hello, cacheDir, stdio: captureStdio().stdio, onPrepare: (id, path) => prepared.push(`${id} ${path}`) });
      try {
        expect(await rt.process.exec("myns:greet", "myns:processes", "Ada")).toMatchObject({ value: "Hello, Ada!" });
      } finally {
        await rt.close();
      }
      return prepared;
    };
    expect(await run()).toEqual(["myns:greet /component.wasm"]);
    expect(await run()).toEqual([]);
  });

  it("hands the CLI the phases of a build as they pass: instrumenting, then compiling", async () => {
    const phases: string[] = [];
    const rt = await Runtime.open({
      root: compute,
      cacheDir: freshCache(),
      stdio: captureStdio().stdio,
      onPrepare: (_id, _path, _done, progress) => void progress.onChange(() => phases.at(-1) !== progress.phase && phases.push(progress.phase)),
    });
    try {
      expect(await rt.process.exec("myns:compute_worker", "myns:processes", 6, 7)).toMatchObject({ value: 42 });
    } finally {
      await rt.close();
    }
    expect(phases).toEqual(["instrumenting", "compiling"]);
  });
});

describe("loading a core module", () => {
  const yaml = `
version: "1.0"
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: w, kind: process.wasm, fs: t:bin, path: /worker.wasm, hash: "{{hash:wasm/worker.wasm}}", method: compute }
  - { name: processes, kind: process.host }
`;
  const compute = async (root: string, cacheDir: string) => {
    const rt = await Runtime.open({ root, cacheDir, stdio: captureStdio().stdio });
    try {
      return await rt.process.exec("t:w", "t:processes", 6, 7);
    } finally {
      await rt.close();
    }
  };

  it("validates the binary before instrumenting it, and not again when the instrumented copy comes from the cache", async () => {
    const project = makeProject(yaml, { "wasm/worker.wasm": "core/compute.wasm" });
    const size = statSync(project.path("wasm/worker.wasm")).size;
    const validate = vi.spyOn(WebAssembly, "validate");
    const cacheDir = freshCache();
    try {
      const ofOriginal = () => validate.mock.calls.filter(([b]) => (b as Uint8Array).byteLength === size).length;
      expect(await compute(project.root, cacheDir)).toMatchObject({ value: 42 });
      expect(ofOriginal()).toBe(1);
      validate.mockClear();
      expect(await compute(project.root, cacheDir)).toMatchObject({ value: 42 });
      expect(ofOriginal()).toBe(0);
    } finally {
      validate.mockRestore();
    }
  });

  it("a module that does not validate fails its spawn with V8's reason, and nothing is cached for it", async () => {
    const project = makeProject(yaml, { "wasm/worker.wasm": "core/compute.wasm" });
    const file = project.path("wasm/worker.wasm");
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 3)); // its last section cut short
    const fixed = readFileSync(project.path("src/app.yaml"), "utf8").replace(/sha256:[0-9a-f]{64}/, `sha256:${sha256(file)}`);
    writeFileSync(project.path("src/app.yaml"), fixed);
    const cacheDir = freshCache();
    const exit = await compute(project.root, cacheDir);
    expect(exit).toMatchObject({ error: { kind: "spawn", message: expect.stringMatching(/^t:w: \/worker\.wasm is not a valid WebAssembly module: .*extends past end of the module/) } });
    expect(existsSync(join(cacheDir, "instrumented")) ? readdirSync(join(cacheDir, "instrumented")) : []).toEqual([]);
  });
});
