// `max_execution_ms` and `fuel` need preemption (SPEC section 2): `wippy lint` warns where
// a host with preempt: false sets them itself, or where a service's process would get them
// there (issue 13, item 8). The spawn refusal itself is tested in limits.test.ts.

import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue, validateDocuments, type Registry } from "../src/registry/index.ts";
import { preemptLimitWarnings } from "../src/registry/preempt-limits.ts";
import { makeProject, REPO } from "./helpers/project.ts";

const YAML = `namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - name: trusted
    kind: process.host
    host: { preempt: false }
    limits: { max_execution_ms: 5s }
  - name: bare
    kind: process.host
    host: { preempt: false }
  - { name: fast, kind: process.host }
  - { name: timed, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: answer, limits: { max_execution_ms: 100, fuel: 1000 } }
  - { name: free, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: answer }
  - { name: timed_svc, kind: process.service, process: timed, host: bare }
  - { name: inherited_svc, kind: process.service, process: free, host: trusted }
  - { name: free_svc, kind: process.service, process: free, host: bare }
  - { name: fast_svc, kind: process.service, process: timed, host: fast }
  - { name: fueled, kind: process.wasm, fs: bin, path: /c.wasm, hash: "{{hash:wasm/c.wasm}}", method: answer, limits: { fuel: 1000 } }
  - { name: mixed_svc, kind: process.service, process: fueled, host: trusted }
`;

function registryOf(yaml: string): Registry {
  const result = validateDocuments([{ file: "src/app.yaml", text: yaml.replace(/\{\{hash:[^}]+\}\}/g, `sha256:${"0".repeat(64)}`) }], { root: "/proj", env: {} });
  expect(result.issues).toEqual([]);
  return { root: "/proj", src: "/proj/src", files: result.files, entries: result.entries };
}

describe("wippy lint: limits that need preemption on a host with preempt: false", () => {
  it("warns for such a host's own limits and for each service that would be refused, and nothing else", () => {
    const warnings = preemptLimitWarnings(registryOf(YAML)).map((w) => formatIssue(w, "/proj"));
    expect(warnings).toEqual([
      "src/app.yaml:4: entry t:trusted, field limits.max_execution_ms: limits.max_execution_ms needs preemption, but this host has preempt: false, so every process spawned on it is refused; drop the limit or the preempt: false",
      "src/app.yaml:14: entry t:timed_svc, field host: limits.max_execution_ms and limits.fuel (from process t:timed) need preemption, but process.host t:bare has preempt: false, so this service cannot start; drop them or run it on a host with preemption",
      "src/app.yaml:15: entry t:inherited_svc, field host: limits.max_execution_ms (from process.host t:trusted's defaults) needs preemption, but process.host t:trusted has preempt: false, so this service cannot start; drop the limit or run it on a host with preemption",
      "src/app.yaml:19: entry t:mixed_svc, field host: limits.fuel (from process t:fueled) and limits.max_execution_ms (from process.host t:trusted's defaults) need preemption, but process.host t:trusted has preempt: false, so this service cannot start; drop them or run it on a host with preemption",
    ]);
  });

  it("the CLI prints them as warning: lines and still passes", () => {
    const project = makeProject(YAML, { "wasm/c.wasm": "core/compute.wasm" });
    const r = spawnSync(process.execPath, [join(REPO, "bin", "wippy.js"), "lint"], {
      cwd: project.root,
      encoding: "utf8",
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-lint-cache-")) },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("ok: 12 entries in 1 file\n");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^warning: src\/app\.yaml:4: entry t:trusted, field limits\.max_execution_ms: .*preempt: false/);
    expect(lines[1]).toMatch(/^warning: src\/app\.yaml:14: entry t:timed_svc, field host: limits\.max_execution_ms and limits\.fuel \(from process t:timed\) need preemption/);
    expect(lines[2]).toMatch(/^warning: src\/app\.yaml:15: entry t:inherited_svc, field host: /);
  });
});
