// A module from BINARY_ENGINE_FROM (1 MiB) up is instrumented by the byte rewrite
// (issue 17, item 8), and runs under the runtime as any other: its output, the limits
// (max_execution_ms preempts a spinning loop, fuel, max_memory), a `preempt: false` host,
// and the cached copy it ran from. The modules are fixtures padded with a custom section.

import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Runtime } from "../src/index.ts";
import { BINARY_ENGINE_FROM } from "../src/wasm/instrument.ts";
import { padToSize } from "./helpers/large-guest.ts";
import { captureStdio, fixture } from "./helpers/project.ts";

function project(): string {
  const root = mkdtempSync(join(tmpdir(), "wippy-large-"));
  mkdirSync(join(root, "wasm"));
  mkdirSync(join(root, "src"));
  const hashes: Record<string, string> = {};
  for (const [name, from] of [["cpu", "c/cpu.core.wasm"], ["hello", "c/hello.core.wasm"]] as const) {
    const bytes = padToSize(readFileSync(fixture(from)), BINARY_ENGINE_FROM);
    writeFileSync(join(root, "wasm", `${name}.wasm`), bytes);
    hashes[name] = createHash("sha256").update(bytes).digest("hex");
  }
  const wasm = (name: string, file: string, method: string, extra = "") =>
    `  - { name: ${name}, kind: process.wasm, fs: bin, path: /${file}.wasm, hash: "sha256:${hashes[file]}", method: ${method}${extra} }`;
  writeFileSync(join(root, "src", "app.yaml"), `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: fueled, kind: process.host, limits: { fuel: 50000 } }
  - { name: trusted, kind: process.host, host: { preempt: false } }
${wasm("sieve", "cpu", "sieve")}
${wasm("spin", "cpu", "spin", ", limits: { max_execution_ms: 100 }")}
${wasm("hog", "cpu", "hog", ", limits: { max_memory: 8388608 }")}
${wasm("hello", "hello", "_start", ", imports: [wasi:cli, wasi:io, wasi:clocks, wasi:random, wasi:filesystem]")}
`);
  return root;
}

const opened: Runtime[] = [];
afterEach(async () => {
  for (const rt of opened.splice(0)) await rt.close(100);
});

async function open(root: string, cacheDir: string) {
  const io = captureStdio();
  const rt = await Runtime.open({ root, cacheDir, stdio: io.stdio });
  opened.push(rt);
  return { rt, io };
}

describe("a module of 1 MiB and more (the byte rewrite)", () => {
  const root = project();
  const cacheDir = mkdtempSync(join(tmpdir(), "wippy-large-cache-"));

  it("runs as the original does, from an instrumented copy without binaryen's reset", async () => {
    const { rt, io } = await open(root, cacheDir);
    expect(await rt.process.exec("t:sieve", "t:hosts", 100_000)).toEqual({ value: 9592 });
    expect(await rt.process.exec("t:sieve", "t:trusted", 100_000)).toEqual({ value: 9592 });
    const pid = await rt.process.spawnMonitored("t:hello", "t:hosts", "a", "b");
    expect(await rt.process.receive(30_000)).toMatchObject({ from: pid, value: 0 });
    expect(io.stdout(pid)).toBe("hello from wasi\nhello\na\nb\n");
    // what ran: the instrumented copies in the cache, none with binaryen's reset export
    const copies = readdirSync(join(cacheDir, "instrumented")).filter((f) => f.endsWith(".wasm"));
    expect(copies.length).toBeGreaterThanOrEqual(3); // two modules, two variants for cpu
    for (const f of copies) {
      const names = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(cacheDir, "instrumented", f)))).map((e) => e.name);
      expect(names).not.toContain("__wippy_reset");
    }
  });

  it("keeps its limits: a spinning loop is preempted and stopped, fuel runs out, memory stops growing", async () => {
    const { rt } = await open(root, cacheDir);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const spun = await rt.process.exec("t:spin", "t:hosts");
      expect(spun).toMatchObject({ error: { kind: "limit", message: expect.stringContaining("max_execution_ms: 100") } });
      expect(ticks).toBeGreaterThan(0); // the loop gave the thread back while it spun
    } finally {
      clearInterval(timer);
    }
    expect(await rt.process.exec("t:sieve", "t:fueled", 1_000_000)).toMatchObject({ error: { kind: "limit", message: expect.stringContaining("limit fuel: 50000") } });
    expect(await rt.process.exec("t:hog", "t:hosts", 64)).toMatchObject({ error: { kind: "limit", message: expect.stringContaining("max_memory") } });
  });
});
