// Imports are checked from the binary's import section before anything is
// instrumented or transpiled (issue 13, item 11): a binary that can never run
// fails at once, in one short line.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { detectKind } from "../src/wasm/binary.ts";
import { sha256Hex } from "../src/wasm/hash.ts";
import { readImportNames } from "../src/wasm/imports.ts";
import { instrumentCore } from "../src/wasm/instrument.ts";
import { fixture, makeProject, REPO, useRuntimes } from "./helpers/project.ts";

// the real instrumenter, watched: the loader reaches it through instrument-cache.ts
vi.mock("../src/wasm/instrument.ts", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/wasm/instrument.ts")>();
  return { ...real, instrumentCore: vi.fn(real.instrumentCore) };
});
const instrumented = vi.mocked(instrumentCore);
beforeEach(() => {
  instrumented.mockClear();
});

const open = useRuntimes("capabilities");

/** A core module importing `count` functions `env.f0`, `env.f1`, … of type () -> (). */
function coreImporting(count: number): Uint8Array {
  const imports: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = [...new TextEncoder().encode(`f${i}`)];
    imports.push(3, ...new TextEncoder().encode("env"), name.length, ...name, 0x00, 0x00);
  }
  const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(2, [...uleb(count), ...imports]),
  ]);
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return out;
}

const YAML = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: term, kind: terminal.host }
  - { name: files_no_fs, kind: process.wasm, fs: bin, path: /files.wasm, hash: "{{hash:wasm/files.wasm}}", method: _start, imports: [wasi:cli] }
  - { name: hello_no_fs, kind: process.wasm, fs: bin, path: /hello.wasm, hash: "{{hash:wasm/hello.wasm}}", method: wasi:cli/run#run, imports: [wasi:cli, wasi:io] }
  - { name: compute, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: answer }
`;
const BINARIES = {
  "wasm/files.wasm": "c/files.core.wasm",
  "wasm/hello.wasm": "c/hello.wasm",
  "wasm/compute.wasm": "core/compute.wasm",
};

describe("imports are checked before any instrumentation", () => {
  it("a core module lacking a grant fails in one short line; binaryen never runs, nothing is cached", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "wippy-capabilities-empty-"));
    const { runtime } = await open(YAML, BINARIES, { cacheDir });
    expect(await runtime.process.exec("t:files_no_fs", "t:hosts")).toEqual({
      error: { kind: "spawn", message: `t:files_no_fs: imports wasi:filesystem but the entry does not grant it; add "wasi:filesystem" to the entry's imports` },
    });
    expect(instrumented).not.toHaveBeenCalled();
    expect(readdirSync(cacheDir)).toEqual([]);
    // the spy does see the loader: a granted module goes through it
    expect(await runtime.process.exec("t:compute", "t:hosts")).toEqual({ value: 42 });
    expect(instrumented).toHaveBeenCalledTimes(1);
  });

  it("a component lacking a grant fails before jco transpiles it or binaryen instruments it", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "wippy-capabilities-empty-"));
    const { runtime } = await open(YAML, BINARIES, { cacheDir });
    expect(await runtime.process.exec("t:hello_no_fs", "t:hosts")).toEqual({
      error: { kind: "spawn", message: `t:hello_no_fs: imports wasi:filesystem but the entry does not grant it; add "wasi:filesystem" to the entry's imports` },
    });
    expect(instrumented).not.toHaveBeenCalled();
    expect(readdirSync(cacheDir)).toEqual([]); // no components/ (transpile) and no instrumented/
    expect(runtime.loaderStats).toMatchObject({ transpiled: 0, instrumented: 0 });
  });

  it("25 imports the runtime does not provide make one short line, not a list of all 25", async () => {
    const foreign = coreImporting(25);
    const yaml = `${YAML}  - { name: foreign, kind: process.wasm, fs: bin, path: /foreign.wasm, hash: "sha256:${sha256Hex(foreign)}", method: _start, imports: [wasi:cli] }\n`;
    const { runtime, project } = await open(yaml, BINARIES);
    writeFileSync(project.path("wasm/foreign.wasm"), foreign);
    expect(await runtime.process.exec("t:foreign", "t:hosts")).toEqual({
      error: { kind: "spawn", message: "t:foreign: imports env.f0, env.f1, env.f2 and 22 more, which this runtime does not provide; WIPPY_LOG=debug lists every import" },
    });
    expect(instrumented).not.toHaveBeenCalled();
  });
});

describe("wippy run -x with a missing grant", () => {
  const project = makeProject(YAML, BINARIES);
  const run = (entry: string, env: Record<string, string>) => {
    const cache = mkdtempSync(join(tmpdir(), "wippy-capabilities-cli-"));
    const r = spawnSync(process.execPath, [join(REPO, "bin", "wippy.js"), "run", "-x", entry], {
      cwd: project.root,
      encoding: "utf8",
      env: { ...process.env, WIPPY_CACHE_DIR: cache, WIPPY_LOG: "", ...env },
      input: "",
      timeout: 60_000,
    });
    // what a transpile or an instrumentation would leave (the CLI's compiled code and validated registry are kept beside them)
    return { code: r.status, stderr: r.stderr, cached: readdirSync(cache).filter((name) => name === "components" || name === "instrumented") };
  };

  it("is one line and status 1, nothing instrumented or transpiled; WIPPY_LOG=debug names each import", () => {
    for (const entry of ["t:files_no_fs", "t:hello_no_fs"]) {
      const r = run(entry, {});
      expect(r).toEqual({
        code: 1,
        stderr: `wippy: ${entry} failed (spawn): ${entry}: imports wasi:filesystem but the entry does not grant it; add "wasi:filesystem" to the entry's imports\n`,
        cached: [],
      });
    }
    const core = run("t:files_no_fs", { WIPPY_LOG: "debug" });
    expect(core.stderr).toMatch(/^wippy: t:files_no_fs: refused imports of \/files\.wasm: [^\n]*wasi_snapshot_preview1\.path_open \(wasi:filesystem\)/m);
    const component = run("t:hello_no_fs", { WIPPY_LOG: "debug" });
    expect(component.stderr).toMatch(/^wippy: t:hello_no_fs: refused imports of \/hello\.wasm: wasi:filesystem\/types@[\d.]+ \(wasi:filesystem\), wasi:filesystem\/preopens@[\d.]+ \(wasi:filesystem\)$/m);
  });
});

describe("readImportNames", () => {
  it("a component's imports that need a host value: a type-only instance (wall-clock for datetime) is not one", () => {
    const bytes = readFileSync(fixture("c/hello.wasm"));
    const names = readImportNames(bytes, detectKind(bytes)).map((n) => n.replace(/@.*$/, ""));
    expect(names).toContain("wasi:filesystem/types");
    expect(names).toContain("wasi:cli/stdout");
    expect(names).not.toContain("wasi:clocks/wall-clock");
    const types = readFileSync(fixture("components/types/types.wasm"));
    expect(readImportNames(types, "component")).toEqual([]); // its one import is a type
  });
});
