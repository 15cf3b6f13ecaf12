// Issue 13, item 10: `wasi.cwd` applies to preview1 core modules as well as to
// components: a relative path resolves against it in both layers (the same C
// program, fixtures/c/files.c, built both ways).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Runtime } from "../src/index.ts";
import { captureStdio, useRuntimes } from "./helpers/project.ts";

const open = useRuntimes("cwd");

const CLI = "[wasi:cli, wasi:io, wasi:clocks, wasi:filesystem]";
const entry = (name: string, file: string, method: string, cwd: string | null) => `
  - name: ${name}
    kind: process.wasm
    fs: bin
    path: /${file}
    hash: "{{hash:wasm/${file}}}"
    method: ${method}
    imports: ${CLI}
    wasi:
${cwd ? `      cwd: ${cwd}\n` : ""}      mounts:
        - { fs: data, guest: /data }
        - { fs: out, guest: /output }`;

const YAML = `
namespace: c
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: data, kind: fs.directory, directory: ./data, auto_init: true }
  - { name: out, kind: fs.directory, directory: ./out, auto_init: true }
  - { name: hosts, kind: process.host }
${entry("core", "files.core.wasm", "_start", "/data/sub")}
${entry("component", "files.wasm", "wasi:cli/run#run", "/data/sub")}
${entry("core_nocwd", "files.core.wasm", "_start", null)}
`;

async function cwdProject() {
  const { runtime, project, io } = await open(YAML, { "wasm/files.core.wasm": "c/files.core.wasm", "wasm/files.wasm": "c/files.wasm" });
  mkdirSync(project.path("data/sub"), { recursive: true });
  writeFileSync(project.path("data/sub/note.txt"), "a note in sub");
  writeFileSync(project.path("data/top.txt"), "at the top");
  const files = (id: string, ...args: string[]) => run(runtime, io, id, ...args);
  return { project, files };
}

async function run(rt: Runtime, io: ReturnType<typeof captureStdio>, id: string, ...args: string[]) {
  const pid = await rt.process.spawnMonitored(`c:${id}`, "c:hosts", ...args);
  const exit = await rt.process.receive(60_000);
  return { exit, stdout: io.stdout(pid), stderr: io.stderr(pid) };
}

describe.each(["core", "component"])("wasi.cwd for a %s", (id) => {
  it("relative paths resolve against cwd; absolute ones still reach their mounts", async () => {
    const { project, files } = await cwdProject();
    expect(await files(id, "read", "note.txt")).toMatchObject({ exit: { value: 0 }, stdout: "a note in sub" });
    expect(await files(id, "write", "made.txt", "written")).toMatchObject({ exit: { value: 0 }, stderr: "" });
    expect(readFileSync(project.path("data/sub/made.txt"), "utf8")).toBe("written");
    expect((await files(id, "ls", ".")).stdout).toBe("made.txt\nnote.txt\n");
    expect(await files(id, "read", "/data/top.txt")).toMatchObject({ exit: { value: 0 }, stdout: "at the top" });
    expect(await files(id, "write", "/output/abs.txt", "x")).toMatchObject({ exit: { value: 0 } });
    expect(readFileSync(project.path("out/abs.txt"), "utf8")).toBe("x");
  });
});

describe("without wasi.cwd", () => {
  it("a relative path names nothing (the guest starts in /, where nothing is mounted)", async () => {
    const { files } = await cwdProject();
    const r = await files("core_nocwd", "read", "note.txt");
    expect(r.exit).toMatchObject({ error: { kind: "exit", code: 1 } });
    expect(r.stderr).toMatch(/^files: read note.txt: /);
  });
});
