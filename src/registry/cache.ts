// The validated registry, kept in wippy's cache folder so that a warm `wippy run` neither
// loads the YAML parser nor validates again. One record per project (root and source
// folder) and build of the runtime holds the entries with what they were made from: the
// SHA-256 of every definition file, the text of every Lua file the validation read, and the
// value of every environment variable it substituted. Any difference and the registry is
// validated again (and the record replaced). Only a registry without issues is kept, so an
// error is always reported from the YAML itself.
//
// The entries hold the hash pins of the binaries a run trusts, so the record gets the
// checks of the rest of the cache (src/wasm/cache-trust.ts): a private folder, files only
// this user can write, and the record's SHA-256 written beside it and checked before it is
// believed. A folder that fails those checks is not used; the YAML is read instead.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { CacheTrustError, digest, privateFolder, readTrusted, writePrivate } from "../wasm/cache-trust.ts";
import { sha256Hex } from "../wasm/hash.ts";
import type { Env } from "./env.ts";
import type { Entry, EntryId } from "./types.ts";

export interface RegistryCache {
  /** The cache folder (wippy's: $WIPPY_CACHE_DIR or ~/.cache/wippy); records go in its registry/. */
  dir: string;
  /** The build of the code that validates: a record of another build is not used. */
  build: string;
}

/** Bump when the record's shape changes. */
const FORMAT = "1";

interface CachedRegistry {
  /** FORMAT, build, root, source folder, and each definition file with its SHA-256. */
  key: string;
  /** Every variable `${env:...}` read, with the value it had (null: unset). */
  env: [string, string | null][];
  /** Files read while validating besides the YAML (process.lua sources), with their text. */
  read: [string, string][];
  files: string[];
  entries: [EntryId, Entry][];
}

export interface CacheInputs {
  root: string;
  src: string;
  /** The definition files as read, in order. */
  docs: readonly { file: string; text: string }[];
  env: Env;
}

function keyOf(cache: RegistryCache, inputs: CacheInputs): string {
  const files = inputs.docs.map((d) => [d.file, sha256Hex(new TextEncoder().encode(d.text))]);
  return JSON.stringify([FORMAT, cache.build, inputs.root, inputs.src, files]);
}

function recordFile(folder: string, cache: RegistryCache, inputs: CacheInputs): string {
  return join(folder, `${sha256Hex(new TextEncoder().encode(JSON.stringify([FORMAT, cache.build, inputs.root, inputs.src]))).slice(0, 32)}.json`);
}

/** The validated registry recorded for these inputs, or undefined (none, stale, or not to be trusted). */
export async function readCachedRegistry(cache: RegistryCache, inputs: CacheInputs): Promise<{ files: string[]; entries: Map<EntryId, Entry> } | undefined> {
  try {
    const file = recordFile(await privateFolder(join(cache.dir, "registry")), cache, inputs);
    const [bytes, recorded] = await Promise.all([readTrusted(file), readTrusted(file.replace(/\.json$/, ".sha256"))]);
    if (!bytes || !recorded || new TextDecoder().decode(recorded) !== digest(bytes)) return undefined;
    const record = parse(bytes);
    if (!record || record.key !== keyOf(cache, inputs)) return undefined;
    if (record.env.some(([name, value]) => (inputs.env[name] ?? null) !== value)) return undefined;
    for (const [path, text] of record.read) {
      if ((await readFile(path, "utf8").catch(() => undefined)) !== text) return undefined;
    }
    return { files: record.files, entries: new Map(record.entries) };
  } catch (err) {
    if (err instanceof CacheTrustError) return undefined;
    throw err;
  }
}

function parse(bytes: Uint8Array): CachedRegistry | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as CachedRegistry;
  } catch {
    return undefined;
  }
}

/** Records a registry validated without issues; `envRead` names the variables the validation read. */
export async function writeCachedRegistry(cache: RegistryCache, inputs: CacheInputs, files: string[], entries: Map<EntryId, Entry>, envRead: Iterable<string>): Promise<void> {
  try {
    const file = recordFile(await privateFolder(join(cache.dir, "registry")), cache, inputs);
    const read: [string, string][] = [];
    for (const e of entries.values()) if (e.kind === "process.lua" && e.file !== undefined) read.push([e.file, e.source]);
    const record: CachedRegistry = { key: keyOf(cache, inputs), env: [...envRead].map((n) => [n, inputs.env[n] ?? null]), read, files, entries: [...entries] };
    const text = JSON.stringify(record);
    // entries are plain data; one that JSON would change (an undefined field, a bigint) is not kept
    if (!isDeepStrictEqual((JSON.parse(text) as CachedRegistry).entries, record.entries)) return;
    await writePrivate(file, text);
    await writePrivate(file.replace(/\.json$/, ".sha256"), digest(text));
  } catch (err) {
    // a record not written costs the next start some milliseconds, nothing more
    if (!(err instanceof CacheTrustError) && (err as NodeJS.ErrnoException).code === undefined) throw err;
  }
}

/** `env` as the validation sees it, noting every name it reads. */
export function recordingEnv(env: Env): { env: Env; read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name);
    },
    has(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.has(target, name);
    },
  });
  return { env: proxy, read };
}
