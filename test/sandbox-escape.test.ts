// Issue 13, item 1: a guest with one writable mount must not reach the folder
// next to it, whatever it renames, links or keeps open. The whole chain from
// the issue, for both WASI layers (preview1 core modules and components),
// plus the folder lock that makes each check and its operation atomic.

import { existsSync, mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FolderLocks } from "../src/wasi/sandbox/lock.ts";
import { makeWorld, OUTSIDE_NAMES, SECRET, snapshot, type World } from "./helpers/outside-tree.ts";
import { LAYERS, type Dir, type FsDriver } from "./helpers/wasi-fs.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0)) await f();
});

async function setup(driver: (typeof LAYERS)[number]["driver"]): Promise<{ w: World; fs: FsDriver; root: Dir }> {
  const w = await makeWorld("wippy-escape-");
  const fs = await driver([{ guest: "/out", host: w.mount, readOnly: false }]);
  cleanups.push(async () => {
    await fs.close();
    await rm(w.work, { recursive: true, force: true });
  });
  return { w, fs, root: fs.roots[0]! };
}

describe.each(LAYERS)("$layer: a writable mount holds", ({ driver }) => {
  it("the issue's chain: a link made safe, renamed into an escape, and a directory fd swapped onto it", async () => {
    const { w, fs, root } = await setup(driver);
    const before = await snapshot(w.outside);

    expect(await fs.mkdir(root, "a")).toBe("ok");
    // From a/ the link stays inside the mount: allowed.
    expect(await fs.symlink(root, "../outside", "a/l")).toBe("ok");
    // One level up it points outside; rename does not look at link targets.
    expect(await fs.rename(root, "a/l", root, "esc")).toBe("ok");
    expect(await fs.mkdir(root, "d")).toBe("ok");
    const opened = await fs.openDir(root, "d");
    expect(opened.outcome).toBe("ok");
    const d = opened.dir!;
    expect(await fs.rename(root, "d", root, "d_old")).toBe("ok");
    expect(await fs.rename(root, "esc", root, "d")).toBe("ok");
    expect(await fs.writeFile(root, "planted.txt", "planted")).toBe("ok");

    // Every *at call through the swapped descriptor is refused: nothing deleted, created, listed, read or moved.
    const refused = fs.refused;
    expect(await fs.unlink(d, "outside-victim.txt")).toBe(refused);
    expect(await fs.mkdir(d, "made")).toBe(refused);
    expect(await fs.writeFile(d, "created.txt", "x")).toBe(refused);
    expect((await fs.list(d)).outcome).toBe(refused);
    expect(await fs.stat(d, "outside-secret.txt", false)).toBe(refused);
    expect(await fs.stat(d, "outside-secret.txt", true)).toBe(refused);
    expect((await fs.readFile(d, "outside-secret.txt", true)).outcome).toBe(refused);
    expect((await fs.openDir(d, "outside-dir")).outcome).toBe(refused);
    expect(await fs.link(d, "outside-secret.txt", root, "stolen")).toBe(refused);
    expect(await fs.rename(d, "outside-secret.txt", root, "moved")).toBe(refused);
    expect(await fs.rename(root, "planted.txt", d, "planted.txt")).toBe(refused);
    expect(await fs.link(root, "planted.txt", d, "linked.txt")).toBe(refused);
    expect(await fs.symlink(d, "outside-secret.txt", "ln")).toBe(refused);
    expect((await fs.readlink(d, "outside-secret.txt")).outcome).toBe(refused);
    expect(await fs.touch(d, "outside-secret.txt")).toBe(refused);
    expect(await fs.rmdir(d, "outside-dir")).toBe(refused);

    // The escaping link itself, followed from the mount's root.
    expect((await fs.readFile(root, "d/outside-secret.txt", true)).outcome).toBe(refused);
    expect((await fs.openDir(root, "d")).outcome).toBe(refused);
    expect(await fs.writeFile(root, "d/created.txt", "x")).toBe(refused);
    expect(await fs.mkdir(root, "d/made")).toBe(refused);

    expect(await snapshot(w.outside)).toEqual(before);
    for (const name of ["stolen", "moved", "linked.txt"]) expect(existsSync(join(w.mount, name)), name).toBe(false);
    expect(existsSync(join(w.mount, "planted.txt"))).toBe(true);
  });

  it("a relative link nested in a renamed directory (a/b/l → ../../outside, then a/b → b) is refused when used", async () => {
    const { w, fs, root } = await setup(driver);
    const before = await snapshot(w.outside);
    expect(await fs.mkdir(root, "a")).toBe("ok");
    expect(await fs.mkdir(root, "a/b")).toBe("ok");
    expect(await fs.symlink(root, "../../outside", "a/b/l")).toBe("ok");
    const held = (await fs.openDir(root, "a/b")).dir!;
    expect(await fs.rename(root, "a/b", root, "b")).toBe("ok");

    expect((await fs.readFile(root, "b/l/outside-secret.txt", true)).outcome).toBe(fs.refused);
    expect((await fs.openDir(root, "b/l")).outcome).toBe(fs.refused);
    expect(await fs.unlink(root, "b/l/outside-victim.txt")).toBe(fs.refused);
    expect(await fs.stat(root, "b/l", true)).toBe(fs.refused);
    // Not following, the link itself is inside and may be looked at or removed.
    expect(await fs.stat(root, "b/l", false)).toBe("ok");
    // The descriptor held on a/b: its path is gone, and it does not follow the directory.
    expect((await fs.readFile(held, "l/outside-secret.txt", true)).outcome).not.toBe("ok");
    expect(await fs.writeFile(held, "l/created.txt", "x")).not.toBe("ok");
    expect(await fs.unlink(root, "b/l")).toBe("ok");
    expect(await snapshot(w.outside)).toEqual(before);
  });

  it("a directory descriptor whose path now names another directory is refused, not redirected", async () => {
    const { w, fs, root } = await setup(driver);
    expect(await fs.mkdir(root, "c")).toBe("ok");
    const held = (await fs.openDir(root, "c")).dir!;
    expect(await fs.writeFile(held, "before.txt", "1")).toBe("ok");
    expect(await fs.rename(root, "c", root, "c_old")).toBe("ok");
    expect(await fs.mkdir(root, "c")).toBe("ok");
    expect(await fs.writeFile(held, "after.txt", "2")).toBe(fs.refused);
    expect((await fs.list(held)).outcome).toBe(fs.refused);
    expect(existsSync(join(w.mount, "c", "after.txt"))).toBe(false);
    expect(existsSync(join(w.mount, "c_old", "before.txt"))).toBe(true);
  });

  it("a second mount nested in the first keeps its folder when the guest swaps it for an escaping link", async () => {
    const w = await makeWorld("wippy-escape-nested-");
    mkdirSync(join(w.mount, "inner"));
    const fs = await driver([
      { guest: "/out", host: w.mount, readOnly: false },
      { guest: "/in", host: join(w.mount, "inner"), readOnly: false },
    ]);
    cleanups.push(async () => {
      await fs.close();
      await rm(w.work, { recursive: true, force: true });
    });
    const [out, inner] = fs.roots as [Dir, Dir];
    const before = await snapshot(w.outside);
    expect(await fs.mkdir(out, "a")).toBe("ok");
    expect(await fs.symlink(out, "../outside", "a/l")).toBe("ok");
    expect(await fs.rename(out, "inner", out, "inner_old")).toBe("ok");
    expect(await fs.rename(out, "a/l", out, "inner")).toBe("ok");
    // The first use of /in comes after the swap: it must not become the folder outside.
    expect((await fs.list(inner)).outcome).toBe(fs.refused);
    expect(await fs.writeFile(inner, "created.txt", "x")).toBe(fs.refused);
    expect(await fs.unlink(inner, "outside-victim.txt")).toBe(fs.refused);
    expect((await fs.readFile(inner, "outside-secret.txt", true)).outcome).toBe(fs.refused);
    expect(await snapshot(w.outside)).toEqual(before);
  });

  it("reads inside the mount still work, through links that stay inside", async () => {
    const { fs, root } = await setup(driver);
    expect(await fs.mkdir(root, "x")).toBe("ok");
    expect(await fs.writeFile(root, "x/f.txt", "inside")).toBe("ok");
    expect(await fs.symlink(root, "x", "lx")).toBe("ok");
    const lx = (await fs.openDir(root, "lx")).dir!;
    expect(await fs.readFile(lx, "f.txt", true)).toEqual({ outcome: "ok", text: "inside" });
    expect((await fs.list(root)).names?.sort()).toEqual(["lx", "x"]);
    const names = (await fs.list(lx)).names ?? [];
    expect(names).toEqual(["f.txt"]);
    expect(names.some((n) => OUTSIDE_NAMES.includes(n)) || names.includes(SECRET)).toBe(false);
  });
});

describe("folder locks", () => {
  /** An operation that runs until released, recording when it starts and ends. */
  function held(log: string[], name: string) {
    let release!: () => void;
    const op = () =>
      new Promise<void>((resolve) => {
        log.push(`${name} start`);
        release = () => {
          log.push(`${name} end`);
          resolve();
        };
      });
    return { op, release: () => release() };
  }

  it("serialises overlapping folders (one inside the other), runs disjoint ones side by side", async () => {
    const locks = new FolderLocks();
    const log: string[] = [];
    const a = held(log, "a");
    const running = locks.run(["/srv/data"], undefined, a.op);
    const inner = locks.run(["/srv/data/inner"], undefined, async () => void log.push("inner"));
    const same = locks.run(["/srv/data/"], undefined, async () => void log.push("same"));
    // "/srv/database" only shares a prefix of characters, not of folders.
    await locks.run(["/srv/database"], undefined, async () => void log.push("sibling"));
    await locks.run(["/other"], undefined, async () => void log.push("other"));
    expect(log).toEqual(["a start", "sibling", "other"]);
    a.release();
    await Promise.all([running, inner, same]);
    expect(log).toEqual(["a start", "sibling", "other", "a end", "inner", "same"]);
  });

  it("a claim on two folders (a rename across mounts) waits for both; conflicting claims keep their order", async () => {
    const locks = new FolderLocks();
    const log: string[] = [];
    const a = held(log, "a");
    const first = locks.run(["/m1"], undefined, a.op);
    const both = locks.run(["/m2", "/m1/sub"], undefined, async () => void log.push("both"));
    const later = locks.run(["/m2/x"], undefined, async () => void log.push("m2"));
    await locks.run(["/m3"], undefined, async () => void log.push("m3"));
    expect(log).toEqual(["a start", "m3"]);
    a.release();
    await Promise.all([first, both, later]);
    expect(log).toEqual(["a start", "m3", "a end", "both", "m2"]);
  });

  it("a queued claim whose process ends is dropped and never runs", async () => {
    const locks = new FolderLocks();
    const log: string[] = [];
    const a = held(log, "a");
    const first = locks.run(["/m"], undefined, a.op);
    const abort = new AbortController();
    const dropped = locks.run(["/m"], abort.signal, async () => void log.push("dropped"));
    const next = locks.run(["/m"], undefined, async () => void log.push("next"));
    abort.abort(new Error("process ended"));
    await expect(dropped).rejects.toThrow("process ended");
    a.release();
    await Promise.all([first, next]);
    expect(log).toEqual(["a start", "a end", "next"]);
  });
});
