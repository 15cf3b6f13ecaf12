// Components are transpiled by jco once per hash and kept on disk, so a second
// `wippy run` imports the generated JS instead of transpiling again. An entry is used only
// if every file matches the digests in its manifest (cache-trust.ts: who may write there).

import { rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sha256Hex } from "./hash.ts";
import { SILENT, type Logger } from "../log.ts";
import { digest, existingFolder, privateFolder, readTrusted, writePrivate } from "./cache-trust.ts";
import { exportedSignatures, type WitSignatures } from "./wit.ts";
import { ASYNC_IMPORTS } from "../wasi/p2/async-imports.ts";
import { PROCESS_ASYNC_IMPORTS } from "../guest/component-abi.ts";
import { instrumentCached, type Instrumentation } from "./instrument-cache.ts";
import { readCoreInfo } from "./binary.ts";
import { pooledMemoryShape, type MemoryShape } from "./preempt-imports.ts";
import type { PrepareProgress } from "./prepare-progress.ts";

/** Transpile options; part of the cache key, so changing them invalidates old output. */
export const TRANSPILE_OPTIONS = {
  name: "component",
  instantiation: "async",
  asyncMode: "jspi",
  asyncExports: ["*"],
  // The host's blocking functions (WASI, and the process API's receive): they return
  // Promises and suspend only their guest.
  asyncImports: [...ASYNC_IMPORTS, ...PROCESS_ASYNC_IMPORTS],
  noTypescript: true,
} as const;

const CACHE_FORMAT = "3";
const JCO_VERSION = "1.35.0";

export interface TranspiledComponent {
  dir: string;
  /** The generated `instantiate(getCoreModule, imports, instantiateCore)`. */
  instantiate: (
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore?: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
  ) => Promise<Record<string, unknown>>;
  coreModules: Map<string, WebAssembly.Module>;
  /** The memory shape of each core module whose memory was turned into `wippy.memory` (for the pool). */
  memoryShapes: WeakMap<WebAssembly.Module, MemoryShape>;
  imports: string[];
  exports: [string, "function" | "instance"][];
  signatures: WitSignatures;
  /** True when this load read the disk cache instead of running jco. */
  cached: boolean;
}

interface Meta {
  imports: string[];
  exports: [string, "function" | "instance"][];
  /** Parameters of every exported function, read from the component's WIT. */
  signatures: WitSignatures;
}

export function defaultCacheDir(): string {
  const env = process.env.WIPPY_CACHE_DIR;
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), ".cache"), "wippy");
}

function cacheKey(hash: string): string {
  return sha256Hex(new TextEncoder().encode([CACHE_FORMAT, JCO_VERSION, JSON.stringify(TRANSPILE_OPTIONS), hash].join("\n"))).slice(0, 32);
}

/** What one cache entry holds once its digests are checked. */
interface Entry {
  meta: Meta;
  /** The core modules jco split out, by file name, before instrumentation. */
  cores: Map<string, Uint8Array>;
}

/** Written last in an entry: the SHA-256 of every file in it. */
const MANIFEST = "manifest.json";

/** The entry if every file matches the manifest; "invalid" when incomplete or changed. */
async function readVerified(dir: string, log: Logger): Promise<Entry | "missing" | "invalid"> {
  // the folder too: component.js is imported from it after the check
  const folder = await existingFolder(dir);
  if (folder !== "private") return folder === "missing" ? "missing" : "invalid";
  const manifestBytes = await readTrusted(join(dir, MANIFEST));
  if (!manifestBytes) return "invalid";
  let manifest: Record<string, string>;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as Record<string, string>;
  } catch {
    log.debug(`cache entry ${dir}: unreadable ${MANIFEST}; transpiling again`);
    return "invalid";
  }
  const listed = Object.entries(manifest);
  if (listed.some(([name]) => !/^[\w-][\w.-]*$/.test(name))) return "invalid"; // jco writes plain file names, nothing outside the entry
  const contents = await Promise.all(listed.map(([name]) => readTrusted(join(dir, name))));
  const files = new Map<string, Uint8Array>();
  for (const [i, [name, sha]] of listed.entries()) {
    const content = contents[i];
    if (!content || digest(content) !== sha) {
      log.debug(`cache entry ${dir}: ${name} ${content ? "does not match its recorded digest" : "is missing"}; transpiling again`);
      return "invalid";
    }
    files.set(name, content);
  }
  const metaBytes = files.get("meta.json");
  if (!metaBytes || !files.has("component.js")) return "invalid";
  const cores = new Map([...files].filter(([name]) => name.endsWith(".wasm")));
  return { meta: JSON.parse(new TextDecoder().decode(metaBytes)) as Meta, cores };
}

/** `replace`: an entry that failed its check is there; it is moved aside, since a rename onto a full folder fails. */
async function transpileToDisk(bytes: Uint8Array, dir: string, replace: boolean): Promise<Entry> {
  const { transpile, componentWit } = await import("@bytecodealliance/jco");
  const signatures = exportedSignatures(await componentWit(bytes));
  const out = await transpile(bytes, { ...TRANSPILE_OPTIONS, asyncExports: [...TRANSPILE_OPTIONS.asyncExports], asyncImports: [...TRANSPILE_OPTIONS.asyncImports] });
  const meta: Meta = { imports: out.imports, exports: out.exports, signatures };
  const files = new Map<string, Uint8Array>(Object.entries(out.files).filter(([name]) => !name.endsWith(".d.ts")));
  files.set("meta.json", new TextEncoder().encode(JSON.stringify(meta)));
  // Write beside, then rename: a reader never sees half a cache entry.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const manifest: Record<string, string> = {};
  for (const [name, content] of files) {
    await writePrivate(join(tmp, name), content);
    manifest[name] = digest(content);
  }
  await writePrivate(join(tmp, MANIFEST), JSON.stringify(manifest));
  const stale = `${dir}.stale-${process.pid}-${Date.now()}`;
  if (replace) await rename(dir, stale).catch(() => undefined);
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true }); // another process won the race; its copy is identical
  }
  if (replace) await rm(stale, { recursive: true, force: true });
  return { meta, cores: new Map([...files].filter(([name]) => name.endsWith(".wasm"))) };
}

/**
 * Transpiles (or reads the cache), then compiles each core module instrumented as `variant`.
 * `onBuild` is called before anything is transpiled or instrumented (not on cache hits).
 */
export async function loadTranspiled(
  bytes: Uint8Array,
  hash: string,
  cacheDir = defaultCacheDir(),
  variant: Instrumentation = "preempt",
  onBuild?: () => void,
  log: Logger = SILENT,
  progress?: PrepareProgress,
): Promise<TranspiledComponent> {
  await privateFolder(cacheDir);
  const dir = join(await privateFolder(join(cacheDir, "components")), cacheKey(hash));
  const found = await readVerified(dir, log);
  const cached = typeof found === "object";
  let entry: Entry;
  if (typeof found === "object") entry = found;
  else {
    onBuild?.();
    progress?.set("transpiling");
    entry = await transpileToDisk(bytes, dir, found === "invalid");
  }
  const { meta } = entry;
  const coreModules = new Map<string, WebAssembly.Module>();
  const memoryShapes = new WeakMap<WebAssembly.Module, MemoryShape>();
  for (const [name, original] of entry.cores) {
    // each core module's own memory becomes an import, so a process can take one from its host's pool
    const { bytes: core } = await instrumentCached(original, variant, cacheDir, { rewrites: { importMemory: true }, onBuild, log, ...(progress ? { progress } : {}) });
    progress?.set("compiling");
    const module = await WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
    coreModules.set(name, module);
    const shape = pooledMemoryShape(module, readCoreInfo(original).memory);
    if (shape) memoryShapes.set(module, shape);
  }
  const mod = (await import(pathToFileURL(join(dir, "component.js")).href)) as Pick<TranspiledComponent, "instantiate">;
  return { dir, instantiate: mod.instantiate, coreModules, memoryShapes, imports: meta.imports, exports: meta.exports, signatures: meta.signatures, cached };
}
