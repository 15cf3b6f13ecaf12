// Resolves a binary's `path` inside its fs.directory, refusing anything that
// leads out of it — by `..` or by a symlink.

import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";

export class PathEscapeError extends Error {}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel));
}

/**
 * `guestPath` is relative to `directory`; a leading `/` means the directory's
 * root. Returns the real host path of an existing file inside `directory`.
 */
export async function resolveInside(directory: string, guestPath: string): Promise<string> {
  const root = await realpath(directory);
  const trimmed = guestPath.replace(/^\/+/, "");
  const lexical = resolve(root, trimmed);
  if (!inside(root, lexical)) {
    throw new PathEscapeError(`path ${guestPath} leads outside directory ${directory}`);
  }
  const real = await realpath(lexical); // throws ENOENT for a missing file
  if (!inside(root, real)) {
    throw new PathEscapeError(`path ${guestPath} is a symlink that leads outside directory ${directory}`);
  }
  return real;
}
