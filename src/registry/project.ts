// Where a project lives: the root (folder of wippy.lock, else the current folder)
// and the source folder the definition files are read from.
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import type { RegistryIssue } from "./errors.ts";

export const LOCK_FILE = "wippy.lock";

export interface ProjectOptions {
  root?: string;
  /** Relative to the root, or absolute. */
  src?: string;
  cwd?: string;
}

export interface ProjectLayout {
  root: string;
  src: string;
  /** Absolute path of wippy.lock, when the project has one. */
  lockFile?: string;
}

export type ProjectResult = { ok: true; layout: ProjectLayout } | { ok: false; issues: RegistryIssue[] };

/** Nearest folder from `start` upwards that holds wippy.lock. */
export function findProjectRoot(start: string): string | undefined {
  let folder = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(folder, LOCK_FILE))) return folder;
    const parent = path.dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

function isDirectory(target: string): boolean {
  try {
    return statSync(target).isDirectory();
  } catch {
    return false;
  }
}

export async function resolveProject(options: ProjectOptions = {}): Promise<ProjectResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const root = options.root !== undefined ? path.resolve(cwd, options.root) : (findProjectRoot(cwd) ?? cwd);
  if (!isDirectory(root)) {
    return { ok: false, issues: [{ file: root, message: "project root does not exist or is not a folder" }] };
  }
  const lockPath = path.join(root, LOCK_FILE);
  const lockFile = existsSync(lockPath) ? lockPath : undefined;
  let src: string | undefined;
  let srcOrigin: RegistryIssue = { file: root, message: "" };
  if (options.src !== undefined) {
    src = path.resolve(root, options.src);
  } else if (lockFile !== undefined) {
    const fromLock = await readLockSource(lockFile);
    if (!fromLock.ok) return fromLock;
    if (fromLock.src !== undefined) {
      src = path.resolve(root, fromLock.src);
      srcOrigin = { file: lockFile, line: fromLock.line, field: "directories.src", message: "" };
    }
  }
  if (src === undefined) {
    const conventional = path.join(root, "src");
    src = isDirectory(conventional) ? conventional : root;
  }
  if (!isDirectory(src)) {
    return { ok: false, issues: [{ ...srcOrigin, message: `source folder ${src} does not exist or is not a folder` }] };
  }
  const layout: ProjectLayout = { root, src };
  if (lockFile !== undefined) layout.lockFile = lockFile;
  return { ok: true, layout };
}

type LockSource = { ok: true; src?: string; line?: number } | { ok: false; issues: RegistryIssue[] };

/** wippy.lock is YAML; only `directories.src` matters here. */
async function readLockSource(lockFile: string): Promise<LockSource> {
  const { describeNode, parseYamlTree } = await import("./yaml-tree.ts"); // the YAML parser loads only when needed
  const parsed = parseYamlTree(await readFile(lockFile, "utf8"));
  if (parsed.problems.length > 0) {
    return { ok: false, issues: parsed.problems.map((problem) => ({ file: lockFile, line: problem.line, message: problem.message })) };
  }
  const top = parsed.root;
  if (top === undefined || (top.type === "scalar" && top.value === null)) return { ok: true };
  if (top.type !== "map") {
    return { ok: false, issues: [{ file: lockFile, line: top.line, message: `must be a mapping (got ${describeNode(top)})` }] };
  }
  const directories = top.pairs.get("directories")?.value;
  if (directories === undefined || (directories.type === "scalar" && directories.value === null)) return { ok: true };
  if (directories.type !== "map") {
    return {
      ok: false,
      issues: [{ file: lockFile, line: directories.line, field: "directories", message: `must be a mapping (got ${describeNode(directories)})` }],
    };
  }
  const src = directories.pairs.get("src")?.value;
  if (src === undefined || (src.type === "scalar" && src.value === null)) return { ok: true };
  if (src.type !== "scalar" || typeof src.value !== "string" || src.value === "") {
    return {
      ok: false,
      issues: [{ file: lockFile, line: src.line, field: "directories.src", message: `must be a folder path (got ${describeNode(src)})` }],
    };
  }
  return { ok: true, src: src.value, line: src.line };
}
