// process.lua entries in the registry (SPEC section 2): source as a file:// next to the
// definition file (inside the source folder) or inline, method, modules, limits, wasi,
// process.spawn and meta.command; errors name file, entry and field.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatIssue, loadRegistry, validateDocuments, RegistryError } from "../src/registry/index.ts";
import { preemptLimitWarnings } from "../src/registry/preempt-limits.ts";
import type { Entry } from "../src/registry/index.ts";

const ROOT = "/proj";

function issues(yaml: string): string[] {
  const result = validateDocuments([{ file: "src/app.yaml", text: yaml }], { root: ROOT, src: `${ROOT}/src`, env: {} });
  return result.issues.map((issue) => formatIssue(issue, ROOT));
}

function entries(yaml: string): Map<string, Entry> {
  const result = validateDocuments([{ file: "src/app.yaml", text: yaml }], { root: ROOT, src: `${ROOT}/src`, env: {} });
  expect(result.issues.map((issue) => formatIssue(issue, ROOT))).toEqual([]);
  return result.entries;
}

const HEAD = `namespace: app
entries:
  - name: host
    kind: process.host
  - name: data
    kind: fs.directory
    directory: ./data
`;

describe("process.lua entries", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("reads inline source, method, modules, limits, wasi mounts, process.spawn and meta.command", () => {
    const map = entries(`${HEAD}
  - name: worker
    kind: process.lua
    source: |
      return 1 + 1
    method: main
    modules: [process, time]
    limits: { max_execution_ms: 500, fuel: 1000000 }
    wasi:
      mounts: [{ fs: data, guest: /data, read_only: true }]
    process: { spawn: [app:svc_target, util:*] }
    meta: { command: { name: work, short: runs the worker } }
  - name: svc
    kind: process.service
    process: worker
    host: host
  - name: svc_target
    kind: process.lua
    source: return 0
`);
    expect(map.get("app:worker")).toMatchObject({
      kind: "process.lua",
      source: "return 1 + 1\n",
      method: "main",
      modules: ["process", "time"],
      limits: { maxExecutionMs: 500, fuel: 1000000 },
      wasi: { env: [], mounts: [{ fs: "app:data", guest: "/data", readOnly: true }] },
      process: { spawn: ["app:svc_target", "util:*"] },
      command: { name: "work", short: "runs the worker" },
    });
    expect(map.get("app:worker")).not.toHaveProperty("file");
    expect(map.get("app:svc")).toMatchObject({ process: "app:worker" });
  });

  it("reads a file:// source relative to the definition file, and refuses one outside the source folder", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "wippy-lua-reg-"));
    await mkdir(path.join(dir, "src", "lua"), { recursive: true });
    await writeFile(path.join(dir, "src", "lua", "worker.lua"), "return 42\n");
    await writeFile(path.join(dir, "outside.lua"), "return 0\n");
    await writeFile(path.join(dir, "src", "lua", "app.yaml"), `namespace: app
entries:
  - name: worker
    kind: process.lua
    source: file://worker.lua
`);
    const registry = await loadRegistry({ root: dir, src: path.join(dir, "src"), env: {} });
    expect(registry.entries.get("app:worker")).toMatchObject({ source: "return 42\n", file: path.join(dir, "src", "lua", "worker.lua") });

    await writeFile(path.join(dir, "src", "lua", "app.yaml"), `namespace: app
entries:
  - name: escape
    kind: process.lua
    source: file://../../outside.lua
  - name: missing
    kind: process.lua
    source: file://nope.lua
`);
    const err = await loadRegistry({ root: dir, src: path.join(dir, "src"), env: {} }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    const lines = (err as RegistryError).issues.map((issue) => formatIssue(issue, dir));
    expect(lines).toEqual([
      expect.stringMatching(/^src\/lua\/app\.yaml:5: entry app:escape, field source: "file:\/\/\.\.\/\.\.\/outside\.lua" resolves to .*outside\.lua, outside the source folder .*; move the file into it$/),
      expect.stringMatching(/^src\/lua\/app\.yaml:8: entry app:missing, field source: cannot read .*nope\.lua: no such file$/),
    ]);
  });

  it("names file, entry and field for each mistake", () => {
    expect(issues(`${HEAD}
  - name: bad
    kind: process.lua
    method: "not a name"
    modules: [process, tim, http]
    wasi: { args: [x] }
    process: { spawn: [app:nowhere] }
  - name: nosrc
    kind: process.lua
    process: { spawn: [app:bad] }
    sourc: return 1
`)).toEqual([
      `src/app.yaml:9: entry app:bad, field source: is required: file://<path> of the Lua file, relative to this definition file, or the Lua text itself`,
      `src/app.yaml:11: entry app:bad, field method: "not a name" is not a Lua name (letters, digits and _, not starting with a digit)`,
      `src/app.yaml:12: entry app:bad, field modules[1]: unknown module "tim" (did you mean "time"?); this runtime's Lua modules: process, time`,
      `src/app.yaml:12: entry app:bad, field modules[2]: unknown module "http"; this runtime's Lua modules: process, time`,
      `src/app.yaml:13: entry app:bad, field wasi.args: a process.lua entry takes no argv (the interpreter's arguments carry the chunk); pass values as spawn arguments`,
      `src/app.yaml:15: entry app:nosrc, field source: is required: file://<path> of the Lua file, relative to this definition file, or the Lua text itself`,
      `src/app.yaml:17: entry app:nosrc, field process: grants spawning, which needs the process API: add "process" to modules`,
      `src/app.yaml:18: entry app:nosrc, field sourc: unknown field (did you mean "source"?)`,
      `src/app.yaml:14: entry app:bad, field process.spawn[0]: refers to app:nowhere, which is not defined; define a process.wasm or process.lua or process.actor entry with that ID or fix the reference`,
    ]);
  });

  it("lint warns when a service runs a Lua entry with fuel on a host without preemption", () => {
    const result = validateDocuments([{ file: "src/app.yaml", text: `namespace: app
entries:
  - { name: host, kind: process.host, host: { preempt: false } }
  - { name: job, kind: process.lua, source: "return 1", limits: { fuel: 1000 } }
  - { name: svc, kind: process.service, process: job, host: host }
` }], { root: ROOT, src: `${ROOT}/src`, env: {} });
    const registry = { root: ROOT, src: `${ROOT}/src`, files: [], entries: result.entries };
    expect(preemptLimitWarnings(registry).map((w) => formatIssue(w, ROOT))).toEqual([
      "src/app.yaml:5: entry app:svc, field host: limits.fuel (from process app:job) needs preemption, but process.host app:host has preempt: false, so this service cannot start; drop the limit or run it on a host with preemption",
    ]);
  });
});
