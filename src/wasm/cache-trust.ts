// The transpile and instrumentation cache holds code that runs on the next `wippy run`, so
// whoever can write there can run code as this user. The cache is therefore private: its
// folders are created 0700 and its files 0600, and a folder or file that someone else owns
// or can write is refused, never read. Each artifact's SHA-256 is recorded when it is
// written and checked when it is read; a mismatch (corruption, a half-written file) means
// rebuild.

import { mkdir, open, rename, stat, writeFile, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { sha256Hex } from "./hash.ts";

export class CacheTrustError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CacheTrustError";
  }
}

/** Permission checks mean nothing on Windows (no POSIX owner or mode bits). */
const POSIX = process.platform !== "win32";

/** Why a folder or file with this owner and mode may not be trusted, or undefined. */
export function untrusted(path: string, kind: "folder" | "file", st: { uid: number; mode: number }, uid = process.getuid?.()): string | undefined {
  const fix = `or set WIPPY_CACHE_DIR to a folder only you can write`;
  if (uid !== undefined && st.uid !== uid) {
    return `cache ${kind} ${path} belongs to another user (uid ${st.uid}, you are ${uid}); chown it to yourself ${fix}`;
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o022) !== 0) {
    const who = (mode & 0o020 ? ["group"] : []).concat(mode & 0o002 ? ["others"] : []).join(" and ");
    return `cache ${kind} ${path} is writable by ${who} (mode ${mode.toString(8)}); run chmod ${kind === "folder" ? "700" : "600"} ${path} ${fix}`;
  }
  return undefined;
}

/** Creates `dir` (0700) if needed and checks that only this user can write it. */
export async function privateFolder(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (POSIX) {
    const why = untrusted(dir, "folder", await stat(dir));
    if (why) throw new CacheTrustError(why);
  }
  return dir;
}

/** What is at `dir`, without creating it; throws when it is a folder someone else could write. */
export async function existingFolder(dir: string): Promise<"missing" | "not-a-folder" | "private"> {
  let st;
  try {
    st = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw err;
  }
  if (!st.isDirectory()) return "not-a-folder";
  const why = POSIX ? untrusted(dir, "folder", st) : undefined;
  if (why) throw new CacheTrustError(why);
  return "private";
}

/**
 * A cached file's bytes, read from the descriptor that was checked (no window between the
 * check and the read); undefined when it does not exist.
 */
export async function readTrusted(file: string): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    if (POSIX) {
      const why = untrusted(file, "file", await handle.stat());
      if (why) throw new CacheTrustError(why);
    }
    return await readWhole(handle);
  } finally {
    await handle.close();
  }
}

/**
 * An open file's bytes, read into one buffer of its size: FileHandle.readFile reads in
 * chunks and joins them, and `new Uint8Array(buffer)` copies again (two extra copies of a
 * 30 MB module). One spare byte shows the end; a file that grew meanwhile is read on.
 */
export async function readWhole(handle: FileHandle): Promise<Uint8Array<ArrayBuffer>> {
  let out = new Uint8Array((await handle.stat()).size + 1);
  let at = 0;
  for (;;) {
    const { bytesRead } = await handle.read(out, at, out.length - at, at);
    if (bytesRead === 0) return out.subarray(0, at);
    at += bytesRead;
    if (at === out.length) {
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
  }
}

/** Writes a cache file (0600), whole or not at all: beside it, then renamed. */
export async function writePrivate(file: string, content: Uint8Array | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, file);
}

/** The digest recorded for a cached artifact. */
export function digest(content: Uint8Array | string): string {
  return sha256Hex(typeof content === "string" ? new TextEncoder().encode(content) : content);
}
