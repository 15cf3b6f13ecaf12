// A writable mount next to an "outside" folder holding a secret, and a
// snapshot of that folder precise enough to see any change (a new or removed
// name, new contents, a new hard link, a touched time).

import { lstat, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SECRET = "TOP-SECRET-7f3a9c";
/** Names that exist only outside the mount: a guest listing one has seen outside. */
export const OUTSIDE_NAMES = ["outside-secret.txt", "outside-victim.txt", "outside-dir", "outside-inner.txt"];

export interface World {
  work: string;
  /** The folder mounted read-write. */
  mount: string;
  /** Its sibling, which no guest may touch. */
  outside: string;
}

/** work/mount (empty) and work/outside/{outside-secret.txt, outside-victim.txt, outside-dir/outside-inner.txt}. */
export async function makeWorld(prefix: string): Promise<World> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const mount = join(work, "mount");
  const outside = join(work, "outside");
  await mkdir(mount);
  await mkdir(join(outside, "outside-dir"), { recursive: true });
  await writeFile(join(outside, "outside-secret.txt"), SECRET);
  await writeFile(join(outside, "outside-victim.txt"), "victim");
  await writeFile(join(outside, "outside-dir", "outside-inner.txt"), SECRET);
  return { work, mount, outside };
}

/** Every entry below `root` with what would show a change (access times excluded: reading is checked separately). */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const st = await lstat(path, { bigint: true });
      const kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "file";
      const body = kind === "file" ? await readFile(path, "utf8") : "";
      out[`${rel}${name}`] = `${kind} ino=${st.ino} nlink=${st.nlink} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ${body}`;
      if (kind === "dir") await walk(path, `${rel}${name}/`);
    }
  };
  out["."] = `mtime=${(await lstat(root, { bigint: true })).mtimeNs}`;
  await walk(root, "");
  return out;
}
