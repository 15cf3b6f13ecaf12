// A large C guest, generated: a WASI command of `functions` small functions (each a loop
// around a switch), all reached through a table from main, so none can be dropped. At -O0
// a function is about 470 bytes of code: 2 200 functions make about 1 MB. It stands in for
// large real modules (CRuby's is 30 MB) in the bench and in tests of the byte instrumenter.
// Built with clang-19 once per source and kept in the temp folder (clang takes about 12 s
// for 10 000 functions).
//
// The command prints the sum of `rounds` (its first argument, default 1) passes over all
// the functions; largeGuestResult computes the same in JS, so a run can be checked.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLANG = process.env.WIPPY_CLANG ?? "clang-19";

export function largeGuestSource(functions: number): string {
  const lines = ["#include <stdio.h>", "#include <stdlib.h>"];
  for (let i = 0; i < functions; i++) {
    lines.push(
      `unsigned f${i}(unsigned x) { unsigned a = x ^ ${i}u;`,
      `  for (unsigned k = 0; k < (x & 7u) + 1; k++) { switch ((a + k) % 5u) {`,
      `    case 0: a = a * ${(i * 7919) % 65521}u + k; break; case 1: a ^= a >> ${1 + (i % 13)}; break;`,
      `    case 2: a += ${i}u * k; break; case 3: a = (a << 3) | (a >> 29); break; default: a -= ${i % 97}u; } }`,
      `  return a; }`,
    );
  }
  lines.push(
    `typedef unsigned (*fn)(unsigned);`,
    `static fn table[] = {${Array.from({ length: functions }, (_, i) => `f${i}`).join(",")}};`,
    `int main(int argc, char** argv) { unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 1; unsigned acc = 0;`,
    `  for (unsigned r = 0; r < rounds; r++) for (unsigned i = 0; i < ${functions}u; i++) acc += table[i](acc + i);`,
    `  printf("%u\\n", acc); return 0; }`,
  );
  return `${lines.join("\n")}\n`;
}

/** What the command prints for `rounds` (the same arithmetic, in unsigned 32 bits). */
export function largeGuestResult(functions: number, rounds = 1): number {
  let acc = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < functions; i++) {
      const x = (acc + i) >>> 0;
      let a = (x ^ i) >>> 0;
      for (let k = 0; k < (x & 7) + 1; k++) {
        switch (((a + k) >>> 0) % 5) {
          case 0: a = (Math.imul(a, (i * 7919) % 65521) + k) >>> 0; break;
          case 1: a = (a ^ (a >>> (1 + (i % 13)))) >>> 0; break;
          case 2: a = (a + Math.imul(i, k)) >>> 0; break;
          case 3: a = ((a << 3) | (a >>> 29)) >>> 0; break;
          default: a = (a - (i % 97)) >>> 0;
        }
      }
      acc = (acc + a) >>> 0;
    }
  }
  return acc;
}

/** The path of the built command (built now if this source was never built here). */
export function largeGuest(functions: number): string {
  const source = largeGuestSource(functions);
  const dir = join(tmpdir(), "wippy-large-guest");
  mkdirSync(dir, { recursive: true });
  const key = createHash("sha256").update(CLANG).update(source).digest("hex").slice(0, 16);
  const wasm = join(dir, `large-${functions}-${key}.wasm`);
  if (existsSync(wasm)) return wasm;
  const c = join(dir, `large-${functions}-${key}.c`);
  writeFileSync(c, source);
  const tmp = `${wasm}.${process.pid}.tmp`;
  try {
    execFileSync(CLANG, ["--target=wasm32-wasi", "-O0", "-o", tmp, c], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const why = (err as { code?: string }).code === "ENOENT" ? `${CLANG} is not installed (apt-get install clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32)` : String((err as { stderr?: Buffer }).stderr ?? err);
    throw new Error(`cannot build the large C guest: ${why}`);
  }
  renameSync(tmp, wasm);
  return wasm;
}
