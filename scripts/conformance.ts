// Runs the official WASI preview1 conformance programs (wasi-testsuite)
// through the runtime: every program becomes a `process.wasm` entry of a
// throwaway project and is run with `runtime.process.exec`, as any user's
// entry would be.
//
//   npm run conformance -- /tmp/wasi-testsuite            # every suite found below the folder
//   npm run conformance -- /tmp/wasi-testsuite --timeout 20000 --filter path_
//   npm run conformance -- /tmp/wasi-testsuite --env ERRNO_MODE_UNIX=1   # extra env for every test
//
// The programs are another project's built code: fetch them outside this
// repository (see /work/shared/wasi-testsuite/README.md); this runner only reads
// them. For each NAME.wasm (with NAME.json's args, env and root) it writes a
// temp project whose `src/app.yaml` holds
//
//   - an `fs.directory` for the folder holding NAME.wasm,
//   - a `process.host`,
//   - one `env.variable` per test variable (the value as its `default:`),
//   - when the test has a `root`: an `fs.directory` for a scratch copy of it,
//     mounted read-write at "/" (the suite's wasmtime adapter does `--dir root::/`),
//   - the `process.wasm` entry: `hash: sha256:<computed>`, `method: _start`,
//     every WASI group in `imports`, and `wasi: { args, env, mounts }`.
//
// The runtime makes argv[0] the entry's name, so the entry is named after the
// program (sanitized to the registry's name characters). No program of the
// suite looks at argv[0]'s text: the AssemblyScript args tests check only the
// count (1 + args) and argv[1..].
//
// The EXIT becomes an exit code: `{ value: 0 }` → 0, an error of kind `exit` →
// its `code`; anything else (trap, spawn error, ...) fails the test with that
// error. A test passes when its exit code matches and its stdout/stderr start
// with the expected text.
//
// Tests run one after another; a test past its timeout is abandoned (the
// runtime is closed, which cancels and then kills the process), but a guest
// spinning in pure wasm cannot be stopped from here.
//
// Exit status: 0 when everything passed, 1 otherwise.

import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import type { ExitResult } from "../src/process/exit.ts";
import { WASI_INTERFACES } from "../src/registry/types.ts";
import { Runtime } from "../src/runtime.ts";

interface Spec {
  args: string[];
  env: Record<string, string>;
  root: string | null;
  exit_code: number;
  stdout: string;
  stderr: string;
}

interface Outcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  note?: string;
}

const NS = "conformance";
const HOST = `${NS}:processes`;

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

/** An entry name (the guest's argv[0]) from a file name: the registry allows [A-Za-z0-9_.-]. */
function entryName(file: string): string {
  return basename(file, ".wasm").replace(/[^A-Za-z0-9_.-]/g, "_") || "test";
}

/** Strings go through `${env:...}` substitution at load; `$${env:` keeps them literal. */
function literal(text: string): string {
  return text.replaceAll("${env:", () => "$${env:");
}

/** The throwaway project's registry for one test. */
function registryYaml(opts: { name: string; wasmDir: string; wasmFile: string; hash: string; spec: Spec; rootDir: string | null }): string {
  const { name, spec } = opts;
  const envEntries = Object.entries(spec.env).map(([variable, value], i) => ({
    id: `env_${i}`,
    variable,
    value,
  }));
  const wasi: Record<string, unknown> = {
    args: spec.args.map(literal),
    env: envEntries.map((e) => ({ id: `${NS}:${e.id}`, name: e.variable })),
  };
  if (opts.rootDir) wasi.mounts = [{ fs: `${NS}:scratch_root`, guest: "/" }];
  const entries: Record<string, unknown>[] = [
    { name: "test_binaries", kind: "fs.directory", directory: literal(opts.wasmDir) },
    ...(opts.rootDir ? [{ name: "scratch_root", kind: "fs.directory", directory: literal(opts.rootDir) }] : []),
    { name: "processes", kind: "process.host" },
    ...envEntries.map((e) => ({ name: e.id, kind: "env.variable", default: literal(e.value) })),
    {
      name,
      kind: "process.wasm",
      fs: `${NS}:test_binaries`,
      path: `/${literal(opts.wasmFile)}`,
      hash: `sha256:${opts.hash}`,
      method: "_start",
      imports: [...WASI_INTERFACES],
      wasi,
    },
  ];
  return stringify({ version: "1.0", namespace: NS, entries });
}

function exitCodeOf(result: ExitResult): { exitCode: number | null; note?: string } {
  if ("error" in result) {
    const { kind, code, message } = result.error;
    if (kind === "exit" && typeof code === "number") return { exitCode: code };
    return { exitCode: null, note: `EXIT error ${kind}: ${message}` };
  }
  if (result.value === 0) return { exitCode: 0 };
  return { exitCode: null, note: `EXIT value ${JSON.stringify(result.value)} (a command's EXIT is { value: 0 } or an error)` };
}

async function runOne(wasmPath: string, spec: Spec, timeoutMs: number): Promise<Outcome> {
  const name = entryName(wasmPath);
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString("utf8");
  const project = await mkdtemp(join(tmpdir(), "wasi-conformance-"));
  let runtime: Runtime | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const rootDir = spec.root ? join(project, "root") : null;
    if (rootDir && spec.root) await cp(join(dirname(wasmPath), spec.root), rootDir, { recursive: true });
    else if (rootDir) await mkdir(rootDir);
    const hash = createHash("sha256").update(await readFile(wasmPath)).digest("hex");
    const yaml = registryYaml({ name, wasmDir: dirname(wasmPath), wasmFile: basename(wasmPath), hash, spec, rootDir });
    await mkdir(join(project, "src"));
    await writeFile(join(project, "src", "app.yaml"), yaml);
    runtime = await Runtime.open({
      root: project,
      // Nothing of this process's environment leaks into the registry or the guest.
      env: {},
      cacheDir: join(project, ".cache"),
      stdio: {
        stdout: (_pid, chunk) => void out.push(chunk.slice()),
        stderr: (_pid, chunk) => void err.push(chunk.slice()),
      },
    });
    const timeout = new Promise<"timeout">((res) => {
      timer = setTimeout(() => res("timeout"), timeoutMs);
    });
    const result = await Promise.race([runtime.process.exec(`${NS}:${name}`, HOST), timeout]);
    if (result === "timeout") return { exitCode: null, stdout: text(out), stderr: text(err), note: `timed out after ${timeoutMs} ms` };
    return { ...exitCodeOf(result), stdout: text(out), stderr: text(err) };
  } catch (e) {
    return { exitCode: null, stdout: text(out), stderr: text(err), note: `runner error: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
    await runtime?.close(100);
    await rm(project, { recursive: true, force: true });
  }
}

function failureReason(spec: Spec, got: Outcome): string | null {
  const reasons: string[] = [];
  if (got.exitCode !== spec.exit_code) reasons.push(got.exitCode === null ? `no exit code, expected ${spec.exit_code}` : `exit code ${got.exitCode}, expected ${spec.exit_code}`);
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
