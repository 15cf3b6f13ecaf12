// Entry point: find the project, read every definition file under the source
// folder, validate everything, check folders on disk, and either return the
// whole typed registry or throw one RegistryError listing every issue. With a
// cache (the CLI's), a registry validated before from the same files is taken
// from it (cache.ts), and the YAML parser is not even loaded.
import { mkdir, readdir, readFile, realpath, stat } from "node:fs/promises";
import * as path from "node:path";
import type { Env } from "./env.ts";
import { RegistryError } from "./errors.ts";
import type { RegistryIssue } from "./errors.ts";
import { readCachedRegistry, recordingEnv, writeCachedRegistry, type RegistryCache } from "./cache.ts";
import { resolveProject } from "./project.ts";
import type { Entry, EntryId, FsDirectoryEntry, Registry } from "./types.ts";
import type { SourceDocument } from "./validate.ts";

export interface LoadOptions {
  /** Project root; default: nearest ancestor of cwd holding wippy.lock, else cwd. */
  root?: string;
  /** Source folder, relative to the root or absolute; default: directories.src of wippy.lock, else ./src if it exists, else the root. */
  src?: string;
  /** Default: process.cwd(). */
  cwd?: string;
  /** For `${env:...}` substitution; default: process.env. */
  env?: Env;
  /** Keep the validated registry in this cache, and take it from there while its files are unchanged. */
  cache?: RegistryCache;
}

export async function loadRegistry(opts: LoadOptions = {}): Promise<Registry> {
  const project = await resolveProject(opts);
  if (!project.ok) throw new RegistryError(project.issues, opts.root ?? opts.cwd ?? process.cwd());
  const { root, src } = project.layout;
  const files = await findYamlFiles(src);
  const texts = await Promise.all(files.map((file) => readFile(file, "utf8")));
  const docs: SourceDocument[] = files.flatMap((file, i) => (looksLikeDefinitionFile(texts[i]!) ? [{ file, text: texts[i]! }] : []));
  const env = opts.env ?? process.env;
  const result = await validated(docs, root, src, env, opts.cache);
  const issues = [...result.issues];
  const toCreate: FsDirectoryEntry[] = [];
  for (const entry of result.entries.values()) {
    if (entry.kind !== "fs.directory" || entry.directory === "") continue;
    const problem = await checkDirectory(entry);
    if (problem === "missing" && entry.autoInit) toCreate.push(entry);
    else if (problem !== undefined) issues.push(directoryIssue(entry, problem));
  }
  // Create folders only for a registry that is otherwise valid: nothing half-configured.
  if (issues.length === 0) {
    for (const entry of toCreate) {
      try {
        await mkdir(entry.directory, { recursive: true });
      } catch (error) {
        issues.push({ ...directoryIssue(entry, "missing"), message: `could not create ${entry.directory}: ${(error as Error).message}` });
      }
    }
  }
  if (issues.length > 0) throw new RegistryError(issues, root);
  return { root, src, files: result.files, entries: result.entries };
}

async function validated(docs: SourceDocument[], root: string, src: string, env: Env, cache: RegistryCache | undefined): Promise<{ files: string[]; entries: Map<EntryId, Entry>; issues: RegistryIssue[] }> {
  const inputs = { root, src, docs, env };
  const cached = cache ? await readCachedRegistry(cache, inputs) : undefined;
  if (cached) return { ...cached, issues: [] };
  const { validateDocuments } = await import("./validate.ts"); // the YAML parser with it
  const recording = cache ? recordingEnv(env) : undefined;
  const result = validateDocuments(docs, { root, src, env: recording?.env ?? env });
  if (cache && recording && result.issues.length === 0) await writeCachedRegistry(cache, inputs, result.files, result.entries, recording.read);
  return result;
}

/** Only files declaring a top-level namespace: or entries: are definition files. */
function looksLikeDefinitionFile(text: string): boolean {
  return /^["']?(namespace|entries)["']?[ \t]*:/m.test(text);
}

type DirectoryProblem = "missing" | "not-a-folder";

async function checkDirectory(entry: FsDirectoryEntry): Promise<DirectoryProblem | undefined> {
  try {
    return (await stat(entry.directory)).isDirectory() ? undefined : "not-a-folder";
  } catch {
    return "missing";
  }
}

function directoryIssue(entry: FsDirectoryEntry, problem: DirectoryProblem): RegistryIssue {
  const message =
    problem === "missing"
      ? `directory ${entry.directory} does not exist (create it or set auto_init: true)`
      : `directory ${entry.directory} is not a folder`;
  return { file: entry.origin.file, line: entry.origin.line, entry: entry.id, field: "directory", message };
}

/** Every *.yaml / *.yml below `folder`, sorted, skipping node_modules and dot-folders. */
async function findYamlFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  const visited = new Set<string>();
  const walk = async (current: string): Promise<void> => {
    const real = await realpath(current);
    if (visited.has(real)) return; // symlink loop
    visited.add(real);
    const items = await readdir(current, { withFileTypes: true });
    for (const item of items) {
      const full = path.join(current, item.name);
      let isDirectory = item.isDirectory();
      let isFile = item.isFile();
      if (item.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        isDirectory = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDirectory) {
        if (!item.name.startsWith(".") && item.name !== "node_modules") await walk(full);
      } else if (isFile && /\.ya?ml$/i.test(item.name)) {
        found.push(full);
      }
    }
  };
  await walk(folder);
  return found.sort();
}
