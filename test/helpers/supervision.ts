// Shared setup for the supervision tests: a project with a guest that returns
// or traps on demand (compute.wasm `behave`), a long sleeper that cancel and
// kill can end at once, a guest that computes forever (`spinner`, no host waits),
// one that runs out of fuel (EXIT kind limit) and an entry whose hash is wrong
// (EXIT kind spawn).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime, type ProcessInfo, type RuntimeOptions } from "../../src/index.ts";
import type { SupervisionEvent } from "../../src/supervision/index.ts";
import type { ServiceChildInput } from "../../supervisors/spec.ts";
import { captureStdio, makeProject } from "./project.ts";

export const SUP_YAML = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 100000 } }
  - { name: behave, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: behave }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
  - { name: spinner, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: spin }
  - { name: fuelled, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: spin, limits: { fuel: 20000 } }
  - { name: badhash, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "sha256:${"0".repeat(64)}", method: behave }
`;

export const SUP_BINARIES = { "wasm/compute.wasm": "core/compute.wasm", "wasm/sleeper.wasm": "c/sleeper.core.wasm" };

export const cacheDir = mkdtempSync(join(tmpdir(), "wippy-cache-"));

export async function openSupervised(yaml = SUP_YAML, opts: Partial<RuntimeOptions> = {}) {
  const project = makeProject(yaml, SUP_BINARIES);
  const events: SupervisionEvent[] = [];
  const runtime = await Runtime.open({ root: project.root, cacheDir, stdio: captureStdio().stdio, onSupervisorEvent: (e) => void events.push(e), ...opts });
  return { runtime, events, project };
}

/** A child that sleeps (for 10 minutes unless told) until cancelled or killed. */
export function sleeper(id: string, extra: Partial<ServiceChildInput> = {}): ServiceChildInput {
  return { id, process: "t:sleeper", host: "t:hosts", input: ["600000"], restart: { initialDelay: 0, maxDelay: 0 }, ...extra };
}

/** A child running behave(mode): 0 returns 0, 1 traps. */
export function behave(id: string, mode: number, extra: Partial<ServiceChildInput> = {}): ServiceChildInput {
  return { id, process: "t:behave", host: "t:hosts", input: [mode], restart: { initialDelay: 0, maxDelay: 0 }, ...extra };
}

/** Polls until `f` returns (or resolves to) something truthy. */
export async function until<T>(f: () => T | Promise<T>, timeoutMs = 3000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The WASM processes of a runtime (supervisors are processes too, listed beside them). */
export function wasm(rt: { processes(): ProcessInfo[] }): ProcessInfo[] {
  return rt.processes().filter((p) => p.kind === "wasm");
}
