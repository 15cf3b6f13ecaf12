// Fuzzing the loader and the process core: fixture binaries, mutated (bytes flipped,
// inserted, deleted, sections cut), each pinned by its own hash and spawned. Every case
// must end in exactly one EXIT (spawn error, trap, limit or a value), with no crash and
// no unhandled rejection; guests get limits, since a mutated loop may never end.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../src/index.ts";
import { sha256Hex } from "../../src/wasm/hash.ts";
import { captureStdio, fixture } from "../helpers/project.ts";
import { prng, type Random } from "./prng.ts";

/** Seeds: [fixture, method, args]. */
const SEEDS: [string, string, unknown[]][] = [
  ["core/compute.wasm", "compute", [6, 7]],
  ["core/compute.wasm", "grow", [2]],
  ["core/nomem.wasm", "answer", []],
  ["c/cpu.core.wasm", "sieve", [1000]],
  ["c/hello.core.wasm", "_start", []],
  ["c/sleeper.core.wasm", "_start", ["1"]],
  ["components/greet/greet.wasm", "greet", ["x"]],
];

function mutate(bytes: Uint8Array, r: Random): Uint8Array {
  const b = Array.from(bytes);
  const at = 8 + r.int(Math.max(1, b.length - 8)); // the header mostly kept, so the loader gets past it
  switch (r.int(6)) {
    case 0:
      b[at] = r.int(256);
      break;
    case 1:
      b[at] = (b[at] ?? 0) ^ (1 << r.int(8));
      break;
    case 2:
      b.splice(at, 0, r.int(256));
      break;
    case 3:
      b.splice(at, 1 + r.int(4));
      break;
    case 4:
      b.length = at;
      break;
    default:
      b[r.int(8)] = r.int(256); // the header itself
  }
  return new Uint8Array(b);
}

const ALL_WASI = "[wasi:cli, wasi:io, wasi:clocks, wasi:filesystem, wasi:random]";

export interface WasmFuzzResult {
  failures: string[];
  kinds: Record<string, number>;
}

/** `count` mutated binaries from `seed`, spawned in batches of `batch` per runtime. */
export async function fuzzWasm(seed: number, count: number, batch = 200): Promise<WasmFuzzResult> {
  const r = prng(seed);
  const failures: string[] = [];
  const kinds: Record<string, number> = {};
  const seeds = SEEDS.map(([file, method, args]) => ({ bytes: readFileSync(fixture(file)), method, args, component: file.startsWith("components/") }));
  const cacheDir = mkdtempSync(join(tmpdir(), "wippy-fuzz-cache-"));
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => void unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  try {
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      const root = mkdtempSync(join(tmpdir(), "wippy-fuzz-"));
      mkdirSync(join(root, "wasm"));
      mkdirSync(join(root, "src"));
      const cases: { id: string; args: unknown[] }[] = [];
      let yaml = `namespace: f\nentries:\n  - { name: bin, kind: fs.directory, directory: ./wasm }\n  - { name: hosts, kind: process.host }\n`;
      for (let i = 0; i < n; i++) {
        // components are transpiled per hash (slow): one case in ten
        const pool = r.int(10) === 0 ? seeds.filter((s) => s.component) : seeds.filter((s) => !s.component);
        const s = r.pick(pool);
        let bytes: Uint8Array = s.bytes;
        for (let k = 1 + r.int(3); k > 0; k--) bytes = mutate(bytes, r);
        writeFileSync(join(root, "wasm", `m${i}.wasm`), bytes);
        const id = `m${i}`;
        yaml += `  - { name: ${id}, kind: process.wasm, fs: bin, path: /m${i}.wasm, hash: "sha256:${sha256Hex(bytes)}", method: "${s.method}", imports: ${ALL_WASI}, limits: { max_execution_ms: 2000, max_memory: 16777216 } }\n`;
        cases.push({ id: `f:${id}`, args: s.args });
      }
      writeFileSync(join(root, "src", "app.yaml"), yaml);
      const rt = await Runtime.open({ root, cacheDir, stdio: captureStdio().stdio });
      try {
        const results = await Promise.all(cases.map((c) => rt.process.exec(c.id, "f:hosts", ...c.args).then(
          (res) => ({ c, res }),
          (err: unknown) => ({ c, err }),
        )));
        for (const out of results) {
          if ("err" in out) {
            failures.push(`seed ${seed}, ${out.c.id}: exec threw ${String(out.err)}`);
            continue;
          }
          const kind = "error" in out.res ? out.res.error.kind : "value";
          kinds[kind] = (kinds[kind] ?? 0) + 1;
          if ("error" in out.res && (!out.res.error.message || out.res.error.message.includes("\n") && out.res.error.kind === "spawn")) {
            failures.push(`seed ${seed}, ${out.c.id}: unclear ${kind} error ${JSON.stringify(out.res.error.message)}`);
          }
        }
        if (rt.processes().length !== 0) failures.push(`seed ${seed}: ${rt.processes().length} processes left after their EXITs`);
      } finally {
        await rt.close(100);
        rmSync(root, { recursive: true, force: true });
      }
    }
  } finally {
    process.off("unhandledRejection", onUnhandled);
    rmSync(cacheDir, { recursive: true, force: true });
  }
  for (const err of unhandled) failures.push(`seed ${seed}: unhandled rejection ${String(err)}`);
  return { failures, kinds };
}
