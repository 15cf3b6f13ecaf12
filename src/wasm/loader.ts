// From a registry entry to a verified, compiled Program: path resolved inside
// its directory, SHA-256 checked before compiling, compiled once per hash,
// capabilities checked once per entry.

import { readFile } from "node:fs/promises";
import { ProcessError } from "../process/exit.ts";
import type { Registry, WasmEntry } from "../registry/types.ts";
import { detectKind, readCoreInfo } from "./binary.ts";
import { checkCapabilities, type CapabilityCheck } from "./capabilities.ts";
import { ComponentProgram, type ComponentImportProvider } from "./component.ts";
import { CoreProgram, type CoreImportProvider } from "./core.ts";
import { sha256Hex } from "./hash.ts";
import { PathEscapeError, resolveInside } from "./locate.ts";
import type { Program } from "./program.ts";
import { SILENT, type Logger } from "../log.ts";
import { defaultCacheDir, loadTranspiled } from "./transpile-cache.ts";
import { instrumentCached, type Instrumentation } from "./instrument-cache.ts";

export interface LoaderOptions {
  cacheDir?: string;
  coreImports: CoreImportProvider;
  componentImports: ComponentImportProvider;
  capabilities: CapabilityCheck;
  /** Called once a load has taken SLOW_LOAD_MS (transpiling, instrumenting): someone may be waiting. */
  onSlowLoad?: (entryId: string, path: string) => void;
  /** The runtime's diagnostics (cache decisions at debug); default: none. */
  log?: Logger;
}

const SLOW_LOAD_MS = 1500;

export interface LoaderStats {
  compiled: number;
  transpiled: number;
  transpileCacheHits: number;
  /** Core modules run through binaryen (fuel, preemption, max_memory). */
  instrumented: number;
  instrumentCacheHits: number;
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
    const bytes = new Uint8Array(await readFile(file)) as Uint8Array<ArrayBuffer>;
    const actual = sha256Hex(bytes);
    if (actual !== entry.hash) {
      throw fail(entry, `hash mismatch for ${entry.path}: expected sha256:${entry.hash}, actual sha256:${actual}; update the entry's hash if the binary changed on purpose`);
    }
    const program = await this.#programFor(entry, bytes, actual, variant);
    const denied = checkCapabilities(program, entry.imports, this.#opts.capabilities);
    if (denied) throw fail(entry, denied);
    if (program.kind === "core" && !program.methods.includes(entry.method)) {
      throw fail(entry, `method ${entry.method} is not an exported function (exports: ${program.methods.join(", ") || "none"})`);
    }
    return program;
  }

  #programFor(entry: WasmEntry, bytes: Uint8Array<ArrayBuffer>, hash: string, variant: Instrumentation): Promise<Program> {
    const key = `${hash}\0${variant}`;
    let p = this.#byHash.get(key);
    if (!p) {
      p = this.#compile(entry, bytes, hash, variant);
      const onSlow = this.#opts.onSlowLoad;
      if (onSlow) {
        const timer = setTimeout(() => onSlow(entry.id, entry.path), SLOW_LOAD_MS);
        const done = () => clearTimeout(timer);
        p.then(done, done);
      }
      p.catch(() => this.#byHash.delete(key));
      this.#byHash.set(key, p);
    }
    return p;
  }

  async #compile(entry: WasmEntry, bytes: Uint8Array<ArrayBuffer>, hash: string, variant: Instrumentation): Promise<Program> {
    const cacheDir = this.#opts.cacheDir ?? defaultCacheDir();
    let kind;
    try {
      kind = detectKind(bytes);
    } catch (err) {
      throw fail(entry, `${entry.path}: ${(err as Error).message}`);
    }
    if (kind === "core") {
      // validated before binaryen sees it; only the instrumented bytes are compiled
      if (!WebAssembly.validate(bytes)) {
        const why = await WebAssembly.compile(bytes).then(() => "", (err: unknown) => (err as Error).message);
        throw fail(entry, `${entry.path} is not a valid WebAssembly module: ${why}`);
      }
      let module: WebAssembly.Module;
      try {
        const started = performance.now();
        // a core module's memory is imported, so that each process can take one from its host's pool
        const out = await instrumentCached(bytes, variant, cacheDir, true);
        if (out.cached) this.stats.instrumentCacheHits++;
        else this.stats.instrumented++;
        this.#log.debug(`${out.cached ? "loaded cached instrumentation of" : "instrumented"} ${entry.path} (sha256:${hash.slice(0, 12)}…, ${variant}) in ${(performance.now() - started).toFixed(0)} ms`);
        module = await WebAssembly.compile(out.bytes as Uint8Array<ArrayBuffer>);
      } catch (err) {
        throw fail(entry, `${entry.path} could not be instrumented for preemption and limits: ${(err as Error).message}`);
      }
      this.stats.compiled++;
      return new CoreProgram(hash, module, readCoreInfo(bytes), this.#opts.coreImports);
    }
    try {
      const started = performance.now();
      const transpiled = await loadTranspiled(bytes, hash, cacheDir, variant);
      const ms = (performance.now() - started).toFixed(0);
      if (transpiled.cached) this.stats.transpileCacheHits++;
      else this.stats.transpiled++;
      this.#log.debug(`${transpiled.cached ? "loaded cached transpilation of" : "transpiled"} component ${entry.path} (sha256:${hash.slice(0, 12)}…) in ${ms} ms`);
      return new ComponentProgram(hash, transpiled, this.#opts.componentImports);
    } catch (err) {
      throw fail(entry, `${entry.path} is not a valid WebAssembly component: ${(err as Error).message}`);
    }
  }
}
