// Instrumented bytes, kept on disk beside the transpiled components: binaryen runs
// once per binary and variant, not once per `wippy run`. Each `<key>.wasm` has its
// digest in `<key>.sha256`, written after it; a file without a matching digest is rebuilt.

import { join } from "node:path";
import { SILENT, type Logger } from "../log.ts";
import { digest, privateFolder, readTrusted, writePrivate } from "./cache-trust.ts";
import { sha256Hex } from "./hash.ts";
import type { PrepareProgress } from "./prepare-progress.ts";
import { instrumentCore, resolvedEngine, type InstrumentOptions } from "./instrument.ts";

/** `preempt`: fuel, preemption and max_memory. `memory`: max_memory only (a host with `preempt: false`). */
export type Instrumentation = "preempt" | "memory";

/** Bump when the instrumentation changes: old cached output is then ignored. */
const FORMAT = "9";

export const INSTRUMENT_OPTIONS: Record<Instrumentation, InstrumentOptions> = {
  preempt: { fuel: true, memory: true },
  memory: { fuel: false, memory: true },
};

/** What a host's own rewrites add on top of the variant. */
export interface HostRewrites {
  /** The memory becomes an import, for a host's memory pool. */
  importMemory?: boolean;
  /** `__wippy_reset`, for instance reuse (core modules the runtime instantiates itself, not a component's). */
  reset?: boolean;
}

export interface InstrumentCacheOptions {
  rewrites?: HostRewrites;
  /** The input's SHA-256 (hex) when the caller has it already: a 30 MB module is hashed once, not twice. */
  hash?: string;
  /** Called before the instrumenter runs, that is only when the cache has no valid copy: a check that may throw, a notice. */
  onBuild?: () => void;
  /** Moved to "instrumenting" when the instrumenter runs. */
  progress?: PrepareProgress;
  log?: Logger;
}

/**
 * The instrumented bytes for `bytes`, from the cache or built (then written there). A cache
 * hit skips onBuild, so whatever needs doing only before instrumenting (validating the
 * input) is done there.
 */
export async function instrumentCached(
  bytes: Uint8Array,
  variant: Instrumentation,
  cacheDir: string,
  opts: InstrumentCacheOptions = {},
): Promise<{ bytes: Uint8Array; cached: boolean }> {
  const { rewrites: { importMemory = false, reset = false } = {}, log = SILENT } = opts;
  const hash = opts.hash ?? sha256Hex(bytes);
  // the engine asked for decides the output (auto: by size, the same every time)
  const engine = resolvedEngine();
  const key = sha256Hex(new TextEncoder().encode(`${FORMAT}\n${variant}${importMemory ? "+pool" : ""}${reset ? "+reset" : ""}+${engine}\n${hash}`)).slice(0, 32);
  const dir = await privateFolder(join(cacheDir, "instrumented"));
  const file = join(dir, `${key}.wasm`);
  const digestFile = join(dir, `${key}.sha256`);
  const [cached, recorded] = await Promise.all([readTrusted(file), readTrusted(digestFile)]);
  if (cached) {
    if (recorded && new TextDecoder().decode(recorded) === digest(cached)) return { bytes: cached, cached: true };
    log.debug(`cached instrumentation ${file} does not match its recorded digest; instrumenting again`);
  }
  opts.onBuild?.();
  const progress = opts.progress;
  progress?.set("instrumenting");
  const onProgress = progress ? (done: number, total: number) => progress.set("instrumenting", total > 0 ? done / total : undefined) : undefined;
  const out = await instrumentCore(bytes, { ...INSTRUMENT_OPTIONS[variant], importMemory, reset, engine, ...(onProgress ? { onProgress } : {}) });
  await writePrivate(file, out);
  await writePrivate(digestFile, digest(out));
  return { bytes: out, cached: false };
}
