// The validated registry the CLI keeps in its cache folder (src/registry/cache.ts): used
// while the definition files, the Lua sources read and the environment substituted are as
// they were, for the same build; never when its digest does not match or the folder is not
// private; never written for a registry with issues.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRegistry, RegistryError, type RegistryCache } from "../src/registry/index.ts";
import { digest } from "../src/wasm/cache-trust.ts";

const YAML = `version: "1.0"
namespace: app
entries:
  - name: files
    kind: fs.directory
    directory: ./data
  - name: greeting
    kind: process.lua
    source: file://hello.lua
    method: main
  - name: worker
    kind: process.wasm
    fs: app:files
    path: /w.wasm
    hash: sha256:${"ab".repeat(32)}
    method: "\${env:WORKER_METHOD|run}"
`;

function project(yaml = YAML) {
  const root = mkdtempSync(join(tmpdir(), "wippy-regcache-"));
  mkdirSync(join(root, "src"));
  mkdirSync(join(root, "data"));
  writeFileSync(join(root, "src", "app.yaml"), yaml);
  writeFileSync(join(root, "src", "hello.lua"), "return { main = function() return 1 end }\n");
  const cache: RegistryCache = { dir: join(mkdtempSync(join(tmpdir(), "wippy-regcache-dir-")), "cache"), build: "test-build" };
  const load = (env: Record<string, string> = {}, c: RegistryCache = cache) => loadRegistry({ root, env, cache: c });
  const records = () => (existsSync(join(cache.dir, "registry")) ? readdirSync(join(cache.dir, "registry")) : []);
  const record = () => join(cache.dir, "registry", records().find((f) => f.endsWith(".json"))!);
  /** Rewrites the record (and its digest, unless `keepDigest`) so a load that uses it shows it. */
  const tamper = (method: string, keepDigest = false) => {
    const data = JSON.parse(readFileSync(record(), "utf8")) as { entries: [string, { method?: string }][] };
    for (const [id, entry] of data.entries) if (id === "app:worker") entry.method = method;
    const text = JSON.stringify(data);
    writeFileSync(record(), text);
    if (!keepDigest) writeFileSync(record().replace(/\.json$/, ".sha256"), digest(text));
  };
  return { root, cache, load, records, record, tamper };
}

const method = async (p: Promise<{ entries: Map<string, unknown> }>) => ((await p).entries.get("app:worker") as { method: string }).method;

describe("the registry cache", () => {
  it("records a valid registry (0600 files in a 0700 folder, the digest beside it) and reads it back while nothing changed", async () => {
    const p = project();
    const first = await p.load();
    expect(p.records().sort()).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.json$/), expect.stringMatching(/^[0-9a-f]{32}\.sha256$/)]);
    expect(statSync(join(p.cache.dir, "registry")).mode & 0o777).toBe(0o700);
    for (const f of p.records()) expect(statSync(join(p.cache.dir, "registry", f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(p.record().replace(/\.json$/, ".sha256"), "utf8")).toBe(digest(readFileSync(p.record())));
    const second = await p.load();
    expect(second).toEqual(first);
    p.tamper("from-the-cache");
    expect(await method(p.load())).toBe("from-the-cache"); // what shows that it was read
  });

  it("validates again when a definition file, a Lua source or a substituted variable changes, or for another build", async () => {
    const p = project();
    await p.load();
    p.tamper("stale");
    expect(await method(p.load({ WORKER_METHOD: "go" }))).toBe("go"); // the env it read changed
    p.tamper("stale");
    writeFileSync(join(p.root, "src", "hello.lua"), "return { main = function() return 2 end }\n");
    expect(await method(p.load({ WORKER_METHOD: "go" }))).toBe("go");
    p.tamper("stale");
    writeFileSync(join(p.root, "src", "app.yaml"), YAML.replace("name: worker", "name: worker # edited"));
    expect(await method(p.load({ WORKER_METHOD: "go" }))).toBe("go");
    p.tamper("stale");
    expect(await method(p.load({ WORKER_METHOD: "go" }, { ...p.cache, build: "another-build" }))).toBe("go");
    expect(await method(p.load({ WORKER_METHOD: "go" }))).toBe("stale"); // and this build's record is still used
  });

  it("does not use a record whose digest does not match", async () => {
    const p = project();
    await p.load();
    p.tamper("forged", true);
    expect(await method(p.load())).toBe("run");
  });

  it("does not use a folder others can write, and still loads the registry from its files", async () => {
    const p = project();
    await p.load();
    p.tamper("from-an-open-folder");
    chmodSync(join(p.cache.dir, "registry"), 0o777);
    expect(await method(p.load())).toBe("run");
  });

  it("records nothing for a registry with issues: the error comes from the YAML every time", async () => {
    const p = project(YAML.replace("kind: process.wasm", "kind: process.wasmm"));
    await expect(p.load()).rejects.toBeInstanceOf(RegistryError);
    expect(p.records()).toEqual([]);
    await expect(p.load()).rejects.toThrow(/process\.wasmm/);
  });
});
