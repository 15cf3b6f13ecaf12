// Components are transpiled by jco once per hash and kept on disk, so a second
// `wippy run` imports the generated JS instead of transpiling again.

import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { sha256Hex } from "./hash.ts";
import { exportedSignatures, type WitSignatures } from "./wit.ts";
import { ASYNC_IMPORTS } from "../wasi/p2/async-imports.ts";
import { instrumentCached, type Instrumentation } from "./instrument-cache.ts";
import { readCoreInfo } from "./binary.ts";
import { pooledMemoryShape, type MemoryShape } from "./preempt-imports.ts";

/** Transpile options; part of the cache key, so changing them invalidates old output. */
export const TRANSPILE_OPTIONS = {
  name: "component",
  instantiation: "async",
  asyncMode: "jspi",
  asyncExports: ["*"],
  // The WASI host's blocking functions: they return Promises and suspend only their guest.
  asyncImports: [...ASYNC_IMPORTS],
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

async function readCached(dir: string): Promise<Meta | null> {
  try {
    return JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as Meta;
  } catch {
    return null;
  }
}

async function transpileToDisk(bytes: Uint8Array, dir: string): Promise<Meta> {
  const { transpile, componentWit } = await import("@bytecodealliance/jco");
  const signatures = exportedSignatures(await componentWit(bytes));
  const out = await transpile(bytes, { ...TRANSPILE_OPTIONS, asyncExports: [...TRANSPILE_OPTIONS.asyncExports], asyncImports: [...TRANSPILE_OPTIONS.asyncImports] });
  const meta: Meta = { imports: out.imports, exports: out.exports, signatures };
  // Write beside, then rename: a reader never sees half a cache entry.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  for (const [name, content] of Object.entries(out.files)) {
    if (name.endsWith(".d.ts")) continue;
    const file = join(tmp, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  await writeFile(join(tmp, "meta.json"), JSON.stringify(meta));
  await mkdir(dirname(dir), { recursive: true });
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true }); // another process won the race; its copy is identical
  }
  return meta;
}

/** Transpiles (or reads the cache), then compiles each core module instrumented as `variant`. */
export async function loadTranspiled(bytes: Uint8Array, hash: string, cacheDir = defaultCacheDir(), variant: Instrumentation = "preempt"): Promise<TranspiledComponent> {
  const dir = join(cacheDir, "components", cacheKey(hash));
  let meta = await readCached(dir);
  const cached = meta !== null;
  if (!meta) meta = await transpileToDisk(bytes, dir);
  const coreModules = new Map<string, WebAssembly.Module>();
  const memoryShapes = new WeakMap<WebAssembly.Module, MemoryShape>();
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".wasm")) continue;
    const original = await readFile(join(dir, name));
    // each core module's own memory becomes an import, so a process can take one from its host's pool
    const { bytes: core } = await instrumentCached(original, variant, cacheDir, true);
    const module = await WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
    coreModules.set(name, module);
    const shape = pooledMemoryShape(module, readCoreInfo(original).memory);
    if (shape) memoryShapes.set(module, shape);
  }
  const mod = (await import(pathToFileURL(join(dir, "component.js")).href)) as Pick<TranspiledComponent, "instantiate">;
  return { dir, instantiate: mod.instantiate, coreModules, memoryShapes, imports: meta.imports, exports: meta.exports, signatures: meta.signatures, cached };
}
