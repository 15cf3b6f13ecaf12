// Instrumented bytes, kept on disk beside the transpiled components: binaryen runs
// once per binary and variant, not once per `wippy run`.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "./hash.ts";
import { instrumentCore, type InstrumentOptions } from "./instrument.ts";

/** `preempt`: fuel, preemption and max_memory. `memory`: max_memory only (a host with `preempt: false`). */
export type Instrumentation = "preempt" | "memory";

/** Bump when the instrumentation changes: old cached output is then ignored. */
const FORMAT = "5";

export const INSTRUMENT_OPTIONS: Record<Instrumentation, InstrumentOptions> = {
  preempt: { fuel: true, memory: true },
  memory: { fuel: false, memory: true },
};

/** `importMemory`: the memory becomes an import, for a host's memory pool (core modules). */
export async function instrumentCached(bytes: Uint8Array, variant: Instrumentation, cacheDir: string, importMemory = false): Promise<{ bytes: Uint8Array; cached: boolean }> {
  const key = sha256Hex(new TextEncoder().encode(`${FORMAT}\n${variant}${importMemory ? "+pool" : ""}\n${sha256Hex(bytes)}`)).slice(0, 32);
  const dir = join(cacheDir, "instrumented");
  const file = join(dir, `${key}.wasm`);
  try {
    return { bytes: new Uint8Array(await readFile(file)), cached: true };
  } catch {
    // not cached yet
  }
  const out = await instrumentCore(bytes, { ...INSTRUMENT_OPTIONS[variant], importMemory });
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, out);
  await rename(tmp, file);
  return { bytes: out, cached: false };
}
