// A large C guest, for measuring instrumentation on modules of CRuby's size: thousands of
// distinct functions, each a loop around a switch, calling a lower one and reading a
// table, plus a function-pointer table that `run` calls through (call_indirect). Written
// as C in parts of PART functions (clang's time grows faster than linearly with one
// file's size), compiled with clang-19 against wasi-libc, linked as a reactor exporting
// `run(seed, n) -> u32`, or as a WASI command whose `main` prints the sum of `run(r, 2)`
// for r below its first argument (default 1), and cached by requested size in the temp folder.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** About how many bytes of WebAssembly one generated function becomes at -O2 (measured). */
const BYTES_PER_FUNCTION = 860;
const CASES = 32;
const PART = 500;

const CLANG = "/usr/bin/clang-19";
const FLAGS = ["--target=wasm32-wasi", "-O2"];

function functionSource(i: number): string {
  // constants from the index, so that no two functions are alike (the linker would fold them)
  const k = (c: number) => ((i * 2654435761 + c * 40503) >>> 0) % 1000003;
  const cases: string[] = [];
  for (let c = 0; c < CASES; c++) {
    const op = [
      `acc = acc * ${k(c) | 1}u + i`,
      `acc ^= acc >> ${(k(c) % 31) + 1}`,
      `acc += table[(acc + ${k(c)}u) & 255]`,
      `acc = (acc << ${(k(c) % 30) + 1}) | (acc >> ${31 - (k(c) % 30)})`,
      `table[(x + ${k(c)}u) & 255] ^= acc`,
      `acc -= x * ${k(c)}u`,
    ][(c + i) % 6];
    cases.push(`      case ${c}: ${op}; break;`);
  }
  const callee = i === 0 ? "" : `  if (n > 1) acc += f${(i * 7 + 3) % i}(acc, n >> 1);\n`;
  return `uint32_t f${i}(uint32_t x, uint32_t n) {\n  uint32_t acc = ${k(99)}u ^ x;\n  for (uint32_t i = 0; i < n; i++) {\n    switch ((x + i * ${k(98) | 1}u) % ${CASES}u) {\n${cases.join("\n")}\n      default: acc += ${k(97)}u;\n    }\n  }\n${callee}  return acc;\n}`;
}

/** The C sources of `functions` functions: parts of PART functions, then the table and `run` (deterministic). */
export function largeGuestSources(functions: number, command = false): string[] {
  const sources: string[] = [];
  const prototype = (i: number) => `__attribute__((noinline)) uint32_t f${i}(uint32_t x, uint32_t n);`;
  for (let start = 0; start < functions; start += PART) {
    const end = Math.min(functions, start + PART);
    const parts = ["#include <stdint.h>", "extern uint32_t table[256];"];
    for (let i = start; i < end; i++) {
      if (i > 0) parts.push(prototype((i * 7 + 3) % i));
      parts.push(prototype(i));
    }
    for (let i = start; i < end; i++) parts.push(functionSource(i));
    sources.push(parts.join("\n") + "\n");
  }
  const main = ["#include <stdint.h>", "uint32_t table[256];", "typedef uint32_t (*fn_t)(uint32_t, uint32_t);"];
  for (let i = 0; i < functions; i++) main.push(prototype(i));
  main.push(`static const fn_t fns[${functions}] = {${Array.from({ length: functions }, (_, i) => `f${i}`).join(",")}};`);
  main.push(`__attribute__((export_name("run"))) uint32_t run(uint32_t seed, uint32_t n) {\n  uint32_t acc = 0;\n  for (uint32_t k = 0; k < ${functions}u; k++) acc += fns[k](seed + k, n);\n  return acc;\n}`);
  if (command) {
    main.unshift("#include <stdio.h>", "#include <stdlib.h>");
    main.push(`int main(int argc, char** argv) {\n  uint32_t rounds = argc > 1 ? (uint32_t)atoi(argv[1]) : 1, acc = 0;\n  for (uint32_t r = 0; r < rounds; r++) acc += run(r, 2);\n  printf("%u\\n", acc);\n  return 0;\n}`);
  }
  sources.push(main.join("\n") + "\n");
  return sources;
}

function run(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // an empty PATH: clang would run any wasm-opt it finds (npm puts binaryen's there)
    const child = spawn(CLANG, args, { cwd, env: { ...process.env, PATH: cwd }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`clang-19 failed for the large guest:\n${stderr}`))));
  });
}

/**
 * The path of a guest of about `bytes` bytes (compiled on first use, two parts at a time;
 * about a minute for 10 MB). Throws when clang-19, wasm-ld-19 or wasi-libc is missing.
 */
export async function largeGuest(bytes: number, opts: { command?: boolean; dir?: string } = {}): Promise<string> {
  const { command = false, dir = join(tmpdir(), "wippy-large-guest") } = opts;
  const functions = Math.max(1, Math.ceil(bytes / BYTES_PER_FUNCTION));
  const out = join(dir, `${command ? "command" : "guest"}-${functions}.wasm`);
  if (existsSync(out)) return out;
  const work = join(dir, `guest-${functions}.${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const sources = largeGuestSources(functions, command);
    sources.forEach((text, i) => writeFileSync(join(work, `part${i}.c`), text));
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < sources.length; i = next++) await run([...FLAGS, "-c", `part${i}.c`, "-o", `part${i}.o`], work);
    };
    await Promise.all([worker(), worker()]);
    const objects = sources.map((_, i) => `part${i}.o`);
    await run([...FLAGS, ...(command ? [] : ["-mexec-model=reactor"]), "-fuse-ld=/usr/bin/wasm-ld-19", "-Wl,--strip-debug", ...objects, "-o", "guest.wasm"], work);
    renameSync(join(work, "guest.wasm"), out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/**
 * `bytes` with a custom section appended that makes the module `size` bytes or more: a
 * module as large as needed, in no time, that runs as the original does (a custom
 * section changes nothing else; the instrumenters drop it).
 */
export function padToSize(bytes: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const name = new TextEncoder().encode("padding");
  const body = 1 + name.length + Math.max(0, size - bytes.length);
  const leb: number[] = [];
  for (let v = body; ; v >>>= 7) {
    if (v < 0x80) {
      leb.push(v);
      break;
    }
    leb.push((v & 0x7f) | 0x80);
  }
  const out = new Uint8Array(bytes.length + 1 + leb.length + body);
  out.set(bytes);
  out.set([0, ...leb, name.length, ...name], bytes.length);
  return out;
}
