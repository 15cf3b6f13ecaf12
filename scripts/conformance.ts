// Runs the official WASI preview1 conformance programs (wasi-testsuite) against
// our own preview1 host, src/wasi/preview1.
//
//   npm run conformance -- /tmp/wasi-testsuite            # every suite found below the folder
//   npm run conformance -- /tmp/wasi-testsuite --timeout 20000 --filter path_
//   npm run conformance -- /tmp/wasi-testsuite --env ERRNO_MODE_UNIX=1   # extra env for every test
//
// The programs are another project's built code: fetch them outside this
// repository (see /work/shared/wasi-testsuite/README.md); this runner only reads
// them. Each NAME.wasm runs with NAME.json's args, env and root (copied to a
// scratch folder and mounted read-write at "/", as the suite's wasmtime adapter
// does with `--dir root::/`), and passes when its exit code matches and its
// stdout/stderr start with the expected text.
//
// Tests run one after another in this process; a test past its timeout is
// abandoned (its pending host waits are aborted), but a guest spinning in pure
// wasm cannot be stopped from here.
//
// Exit status: 0 when everything passed, 1 otherwise.

import { cp, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import type { WasmEntry } from "../src/registry/types.ts";
import { createPreview1Host, WasiExit } from "../src/wasi/preview1/index.ts";
import type { ProcessIO } from "../src/wasm/program.ts";

interface Spec {
  args: string[];
  env: Record<string, string>;
  root: string | null;
  exit_code: number;
  stdout: string;
  stderr: string;
}

interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  note?: string;
}

const ALL_GRANTS = new Set(["wasi:cli", "wasi:io", "wasi:clocks", "wasi:filesystem", "wasi:random", "wasi:sockets"]);

// JSPI is not in TypeScript's lib yet.
const promising = (WebAssembly as unknown as { promising: (f: unknown) => () => Promise<unknown> }).promising;

interface Cli {
  folder: string;
  timeoutMs: number;
  filter: string | undefined;
  env: Record<string, string>;
}

function parseArgs(argv: string[]): Cli {
  let folder: string | undefined;
  let timeoutMs = 30_000;
  let filter: string | undefined;
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--timeout") timeoutMs = Number(argv[++i]);
    else if (a === "--filter") filter = argv[++i];
    else if (a === "--env") {
      const kv = argv[++i] ?? "";
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new Error("--env takes NAME=value");
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    else if (!a.startsWith("-")) folder = a;
    else throw new Error(`unknown option ${a}`);
  }
  if (!folder) throw new Error("usage: npm run conformance -- <folder> [--timeout ms] [--filter text] [--env NAME=value]");
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error("--timeout takes a positive number of ms");
  return { folder: resolve(folder), timeoutMs, filter, env };
}

/** Folders holding *.wasm test programs, depth first, in name order. */
async function findSuites(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    if (entries.some((e) => e.isFile() && e.name.endsWith(".wasm"))) out.push(dir);
    for (const e of entries) if (e.isDirectory() && !e.name.endsWith(".dir")) await walk(join(dir, e.name));
  };
  await walk(folder);
  return out;
}

async function suiteName(dir: string, folder: string): Promise<string> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { name?: string };
    if (manifest.name) return manifest.name;
  } catch {
    // no manifest: the folder names the suite
  }
  return relative(folder, dir) || basename(dir);
}

/** Test artifacts left by an earlier run (the suite's spec says to remove them first). */
async function removeCleanupFiles(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.name.endsWith(".cleanup")) await rm(join(e.parentPath, e.name), { recursive: true, force: true });
  }
}

async function readSpec(wasmPath: string): Promise<Spec> {
  const spec: Spec = { args: [], env: {}, root: null, exit_code: 0, stdout: "", stderr: "" };
  try {
    Object.assign(spec, JSON.parse(await readFile(wasmPath.replace(/\.wasm$/, ".json"), "utf8")));
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
  return spec;
}

async function runOne(wasmPath: string, spec: Spec, timeoutMs: number): Promise<Outcome> {
  const name = basename(wasmPath);
  const decoder = { out: [] as Uint8Array[], err: [] as Uint8Array[] };
  const scratch = spec.root ? await mkdtemp(join(tmpdir(), "wasi-conformance-")) : null;
  if (scratch && spec.root) await cp(join(wasmPath, "..", spec.root), scratch, { recursive: true });
  const abort = new AbortController();
  let ended = false;
  const io: ProcessIO = {
    entry: { method: "_start", imports: [...ALL_GRANTS] } as unknown as WasmEntry,
    argv: [name, ...spec.args],
    env: spec.env,
    mounts: scratch ? [{ guest: "/", host: scratch, readOnly: false }] : [],
    stdout: (chunk) => void decoder.out.push(chunk.slice()),
    stderr: (chunk) => void decoder.err.push(chunk.slice()),
    onSuspend: () => {},
    onResume: () => {
      if (ended) throw new Error("test timed out");
    },
    signal: abort.signal,
  };
  const host = createPreview1Host({ io, granted: ALL_GRANTS });
  const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString("utf8");
  let timer: NodeJS.Timeout | undefined;
  try {
    const module = await WebAssembly.compile(await readFile(wasmPath));
    const instance = await WebAssembly.instantiate(module, host.imports);
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error("the module exports no memory");
    host.bindMemory(memory);
    const start = promising(instance.exports._start);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ended = true;
        abort.abort();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    let exitCode = 0;
    let note: string | undefined;
    try {
      await Promise.race([start(), timeout]);
    } catch (err) {
      if (err instanceof WasiExit) exitCode = err.code;
      else if (err instanceof WebAssembly.RuntimeError) {
        // As wasmtime reports a trap on Unix (abort).
        exitCode = 134;
        note = `trap: ${err.message}`;
      } else throw err;
    }
    return { exitCode, stdout: text(decoder.out), stderr: text(decoder.err), ...(note ? { note } : {}) };
  } catch (err) {
    return { exitCode: -1, stdout: text(decoder.out), stderr: text(decoder.err), note: `host error: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
    ended = true;
    await host.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

function failureReason(spec: Spec, got: Outcome): string | null {
  const reasons: string[] = [];
  if (got.exitCode !== spec.exit_code) reasons.push(`exit code ${got.exitCode}, expected ${spec.exit_code}`);
  if (!got.stdout.startsWith(spec.stdout)) reasons.push(`stdout ${JSON.stringify(got.stdout.slice(0, 200))} does not start with ${JSON.stringify(spec.stdout)}`);
  if (!got.stderr.startsWith(spec.stderr)) reasons.push(`stderr does not start with ${JSON.stringify(spec.stderr)}`);
  if (reasons.length === 0) return null;
  if (got.note) reasons.push(got.note);
  const tail = got.stderr.trim().split("\n").slice(-3).join(" | ");
  if (tail) reasons.push(`stderr: ${tail.slice(0, 400)}`);
  return reasons.join("; ");
}

async function main(): Promise<number> {
  const { folder, timeoutMs, filter, env } = parseArgs(process.argv.slice(2));
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw new Error(`${folder} is not a folder`);
  const suites = await findSuites(folder);
  if (suites.length === 0) throw new Error(`no *.wasm test programs below ${folder}`);
  let passed = 0;
  let failed = 0;
  for (const dir of suites) {
    await removeCleanupFiles(dir);
    const name = await suiteName(dir, folder);
    const tests = (await readdir(dir)).filter((f) => f.endsWith(".wasm") && (!filter || f.includes(filter))).sort();
    const failures: string[] = [];
    for (const file of tests) {
      const wasmPath = join(dir, file);
      const spec = await readSpec(wasmPath);
      spec.env = { ...spec.env, ...env };
      const reason = failureReason(spec, await runOne(wasmPath, spec, timeoutMs));
      if (reason) failures.push(`  FAIL ${file}: ${reason}`);
    }
    const ok = tests.length - failures.length;
    passed += ok;
    failed += failures.length;
    console.log(`${name}: ${ok} passed, ${failures.length} failed, ${tests.length} total`);
    for (const f of failures) console.log(f);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`conformance: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
