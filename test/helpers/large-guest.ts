// A large C guest, for measuring instrumentation on modules of CRuby's size: thousands of
// distinct functions, each a loop around a switch, calling a lower one and reading a
// table, plus a function-pointer table that `run` calls through (call_indirect). Written
// as C, compiled with clang-19 against wasi-libc as a reactor exporting
// `run(seed, n) -> u32`, and cached by requested size in the temp folder.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** About how many bytes of WebAssembly one generated function becomes at -O2 (measured). */
const BYTES_PER_FUNCTION = 860;
const CASES = 32;

/** The C source of `functions` functions (deterministic: same count, same text). */
export function largeGuestSource(functions: number): string {
  const parts: string[] = ["#include <stdint.h>", "static uint32_t table[256];", "typedef uint32_t (*fn_t)(uint32_t, uint32_t);"];
  for (let i = 0; i < functions; i++) parts.push(`__attribute__((noinline)) uint32_t f${i}(uint32_t x, uint32_t n);`);
  for (let i = 0; i < functions; i++) {
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
    parts.push(
      `uint32_t f${i}(uint32_t x, uint32_t n) {\n  uint32_t acc = ${k(99)}u ^ x;\n  for (uint32_t i = 0; i < n; i++) {\n    switch ((x + i * ${k(98) | 1}u) % ${CASES}u) {\n${cases.join("\n")}\n      default: acc += ${k(97)}u;\n    }\n  }\n${callee}  return acc;\n}`,
    );
  }
  parts.push(`static const fn_t fns[${functions}] = {${Array.from({ length: functions }, (_, i) => `f${i}`).join(",")}};`);
  parts.push(
    `__attribute__((export_name("run"))) uint32_t run(uint32_t seed, uint32_t n) {\n  uint32_t acc = 0;\n  for (uint32_t k = 0; k < ${functions}u; k++) acc += fns[k](seed + k, n);\n  return acc;\n}`,
  );
  return parts.join("\n") + "\n";
}

/**
 * The path of a guest of about `bytes` bytes (compiled on first use; clang takes a while
 * for tens of megabytes). Throws when clang-19 or wasi-libc is missing.
 */
export function largeGuest(bytes: number, dir: string = join(tmpdir(), "wippy-large-guest")): string {
  const functions = Math.max(1, Math.ceil(bytes / BYTES_PER_FUNCTION));
  const out = join(dir, `guest-${functions}.wasm`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const source = join(dir, `guest-${functions}.c`);
  writeFileSync(source, largeGuestSource(functions));
  const partial = `${out}.${process.pid}.tmp`;
  // an empty PATH: clang would run any wasm-opt it finds (npm puts binaryen's there)
  const res = spawnSync(
    "/usr/bin/clang-19",
    ["--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-fuse-ld=/usr/bin/wasm-ld-19", "-Wl,--strip-debug", source, "-o", partial],
    { encoding: "utf8", env: { ...process.env, PATH: dir } },
  );
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`clang-19 failed for the large guest:\n${res.stderr}`);
  renameSync(partial, out);
  return out;
}
