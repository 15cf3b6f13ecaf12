// From a registry entry to a verified, compiled Program: path resolved inside
// its directory, SHA-256 checked and capabilities checked (from the import
// section) before compiling, compiled once per hash.

import { open } from "node:fs/promises";
import { ProcessError } from "../process/exit.ts";
import type { Registry, WasmEntry } from "../registry/types.ts";
import { detectKind, readCoreInfo, type BinaryKind } from "./binary.ts";
import { checkCapabilities, type CapabilityCheck } from "./capabilities.ts";
import { ComponentProgram, type ComponentImportProvider } from "./component.ts";
import { CoreProgram, type CoreImportProvider } from "./core.ts";
import { sha256Hex } from "./hash.ts";
import { readImportNames } from "./imports.ts";
import { PathEscapeError, resolveInside } from "./locate.ts";
import type { Program } from "./program.ts";
import { SILENT, type Logger } from "../log.ts";
import { defaultCacheDir, loadTranspiled } from "./transpile-cache.ts";
import { instrumentCached, type Instrumentation } from "./instrument-cache.ts";
import { CacheTrustError, readWhole } from "./cache-trust.ts";
import { PrepareProgress } from "./prepare-progress.ts";

export interface LoaderOptions {
  cacheDir?: string;
  coreImports: CoreImportProvider;
  componentImports: ComponentImportProvider;
  capabilities: CapabilityCheck;
  /**
   * Called when a binary is actually transpiled or instrumented (a cache miss, never a cache
   * hit), once per build; `done` settles when that build ends, failed or not.
   */
  onPrepare?: (entryId: string, path: string, done: Promise<void>, progress: PrepareProgress) => void;
  /** The runtime's diagnostics (cache decisions at debug); default: none. */
  log?: Logger;
}

export interface LoaderStats {
  compiled: number;
  transpiled: number;
  transpileCacheHits: number;
  /** Core modules run through binaryen (fuel, preemption, max_memory). */
  instrumented: number;
  instrumentCacheHits: number;
}

/** An entry the runtime made for a binary of its own (the Lua interpreter): a file by absolute path, no fs.directory. */
export interface BuiltinWasmEntry extends WasmEntry {
  file: string;
}

const isBuiltin = (entry: WasmEntry): entry is BuiltinWasmEntry => typeof (entry as Partial<BuiltinWasmEntry>).file === "string";

/** A binary's bytes, read once into one buffer (hashing, instrumenting and compiling all take that one). */
async function readBinary(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const handle = await open(file, "r");
  try {
    return await readWhole(handle);
  } finally {
    await handle.close();
  }
}

const fail = (entry: WasmEntry, message: string) => new ProcessError("spawn", `${entry.id}: ${oneLine(message)}`);

/** Tool errors (jco, wasm-tools) come as "Caused by:" chains over several lines: one line, please. */
export function oneLine(message: string): string {
  return message
    .split("\n")
    .map((l) => l.trim().replace(/^\d+: /, ""))
    .filter((l) => l !== "" && l !== "Caused by:")
    .join(": ")
    .replace(/:: /g, ": ");
}

/** The imports, or undefined for a binary too malformed to read: compiling it then says why, in V8's or jco's words. */
function readImportsOrSkip(bytes: Uint8Array, kind: BinaryKind): string[] | undefined {
  try {
    return readImportNames(bytes, kind);
  } catch {
    return undefined;
  }
}

/** The input failed WebAssembly.validate (V8's compile then says why). */
class InvalidBinary extends Error {}

export class ProgramLoader {
  readonly #registry: Registry;
  readonly #opts: LoaderOptions;
  readonly #log: Logger;
  readonly #byHash = new Map<string, Promise<Program>>();
  readonly #byEntry = new Map<string, Promise<Program>>();
  /** Entries already verified: lets a spawn take the synchronous path. */
  readonly #ready = new Map<string, Program>();
  readonly stats: LoaderStats = { compiled: 0, transpiled: 0, transpileCacheHits: 0, instrumented: 0, instrumentCacheHits: 0 };

  constructor(registry: Registry, opts: LoaderOptions) {
    this.#registry = registry;
    this.#opts = opts;
    this.#log = opts.log ?? SILENT;
  }

  /** The program if this entry was loaded before (no I/O, no await). */
  peek(entry: WasmEntry, variant: Instrumentation = "preempt"): Program | undefined {
    return this.#ready.get(`${entry.id}\0${variant}`);
  }

  /** Every program is instrumented: `preempt` by default, `memory` for a host with `preempt: false`. */
  load(entry: WasmEntry, variant: Instrumentation = "preempt"): Promise<Program> {
    const key = `${entry.id}\0${variant}`;
    let p = this.#byEntry.get(key);
    if (!p) {
      p = this.#loadEntry(entry, variant).then((program) => {
        this.#ready.set(key, program);
        return program;
      });
      // A failed load is not cached: the file may be fixed and the spawn retried.
      p.catch(() => this.#byEntry.delete(key));
      this.#byEntry.set(key, p);
    }
    return p;
  }

  async #loadEntry(entry: WasmEntry, variant: Instrumentation): Promise<Program> {
    const file = isBuiltin(entry) ? entry.file : await this.#locate(entry);
    const bytes = await readBinary(file);
    const actual = sha256Hex(bytes);
    if (actual !== entry.hash) {
      throw fail(entry, `hash mismatch for ${entry.path}: expected sha256:${entry.hash}, actual sha256:${actual}; update the entry's hash if the binary changed on purpose`);
    }
    let kind: BinaryKind;
    try {
      kind = detectKind(bytes);
    } catch (err) {
      throw fail(entry, `${entry.path}: ${(err as Error).message}`);
    }
    // From the import section, before binaryen or jco: a binary that can never run fails at once.
    const imports = readImportsOrSkip(bytes, kind);
    if (imports) this.#checkCapabilities(entry, { kind, imports });
    const program = await this.#programFor(entry, bytes, kind, actual, variant);
    // jco's own list of a component's imports; the same check, for what the section read could not settle
    this.#checkCapabilities(entry, program);
    if (program.kind === "core" && !program.methods.includes(entry.method)) {
      throw fail(entry, `method ${entry.method} is not an exported function (exports: ${program.methods.join(", ") || "none"})`);
    }
    return program;
  }

  /** The entry's binary inside its fs.directory. */
  async #locate(entry: WasmEntry): Promise<string> {
    const fsEntry = this.#registry.entries.get(entry.fs);
    if (!fsEntry || fsEntry.kind !== "fs.directory") throw fail(entry, `fs ${entry.fs} is not an fs.directory`);
    let file: string;
    try {
      file = await resolveInside(fsEntry.directory, entry.path);
    } catch (err) {
      if (err instanceof PathEscapeError) throw fail(entry, `${err.message}; keep binaries inside the fs.directory`);
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw fail(entry, `binary ${entry.path} not found in fs.directory ${entry.fs} (${fsEntry.directory})`);
      }
      throw fail(entry, `cannot open ${entry.path} in ${fsEntry.directory}: ${(err as Error).message}`);
    }
    return file;
  }

  #checkCapabilities(entry: WasmEntry, binary: Pick<Program, "kind" | "imports">): void {
    const refused = checkCapabilities(binary, entry.imports, this.#opts.capabilities);
    if (!refused) return;
    this.#log.debug(`${entry.id}: refused imports of ${entry.path}: ${refused.details.join(", ")}`);
    throw fail(entry, refused.message);
  }

  #programFor(entry: WasmEntry, bytes: Uint8Array<ArrayBuffer>, kind: BinaryKind, hash: string, variant: Instrumentation): Promise<Program> {
    const key = `${hash}\0${variant}`;
    let p = this.#byHash.get(key);
    if (!p) {
      let building = false;
      const onPrepare = this.#opts.onPrepare;
      const progress = new PrepareProgress();
      // called by the caches only when they build, and only after an await, so `p` is set by then
      const onBuild = () => {
        if (building || !onPrepare) return;
        building = true;
        onPrepare(entry.id, entry.path, (p as Promise<Program>).then(() => undefined, () => undefined), progress);
      };
      p = this.#compile(entry, bytes, kind, hash, variant, onBuild, progress);
      p.catch(() => this.#byHash.delete(key));
      this.#byHash.set(key, p);
    }
    return p;
  }

  async #compile(entry: WasmEntry, bytes: Uint8Array<ArrayBuffer>, kind: BinaryKind, hash: string, variant: Instrumentation, onBuild: () => void, progress: PrepareProgress): Promise<Program> {
    const cacheDir = this.#opts.cacheDir ?? defaultCacheDir();
    if (kind === "core") {
      let module: WebAssembly.Module;
      try {
        const started = performance.now();
        // a core module's memory is imported, so that each process can take one from its host's pool,
        // and a module whose state can be put back gets a reset, so that an instance serves process after process
        const out = await instrumentCached(bytes, variant, cacheDir, {
          rewrites: { importMemory: true, reset: true },
          hash,
          // validated before it is instrumented; a cached copy was made from these very bytes (same hash)
          onBuild: () => {
            if (!WebAssembly.validate(bytes)) throw new InvalidBinary();
            onBuild();
          },
          progress,
          log: this.#log,
        });
        if (out.cached) this.stats.instrumentCacheHits++;
        else this.stats.instrumented++;
        this.#log.debug(`${out.cached ? "loaded cached instrumentation of" : "instrumented"} ${entry.path} (sha256:${hash.slice(0, 12)}…, ${variant}) in ${(performance.now() - started).toFixed(0)} ms`);
        progress.set("compiling");
        module = await WebAssembly.compile(out.bytes as Uint8Array<ArrayBuffer>);
      } catch (err) {
        if (err instanceof InvalidBinary) {
          const why = await WebAssembly.compile(bytes).then(() => "", (e: unknown) => (e as Error).message);
          throw fail(entry, `${entry.path} is not a valid WebAssembly module: ${why}`);
        }
        if (err instanceof CacheTrustError) throw fail(entry, err.message);
        throw fail(entry, `${entry.path} could not be instrumented for preemption and limits: ${(err as Error).message}`);
      }
      this.stats.compiled++;
      return new CoreProgram(hash, module, readCoreInfo(bytes), this.#opts.coreImports);
    }
    try {
      const started = performance.now();
      const transpiled = await loadTranspiled(bytes, hash, cacheDir, variant, onBuild, this.#log, progress);
      const ms = (performance.now() - started).toFixed(0);
      if (transpiled.cached) this.stats.transpileCacheHits++;
      else this.stats.transpiled++;
      this.#log.debug(`${transpiled.cached ? "loaded cached transpilation of" : "transpiled"} component ${entry.path} (sha256:${hash.slice(0, 12)}…) in ${ms} ms`);
      return new ComponentProgram(hash, transpiled, this.#opts.componentImports);
    } catch (err) {
      if (err instanceof CacheTrustError) throw fail(entry, err.message);
      throw fail(entry, `${entry.path} is not a valid WebAssembly component: ${(err as Error).message}`);
    }
  }
}
