// Shared setup for the supervision tests: a project with a guest that returns
// or traps on demand (compute.wasm `behave`), a long sleeper that cancel and
// kill can end at once, a guest that computes forever (`spinner`, no host waits),
// one that runs out of fuel (EXIT kind limit) and an entry whose hash is wrong
// (EXIT kind spawn). The same children as TypeScript actors, and a kit of each
// kind, so one scenario runs with WASM children and with TS ones.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { createMachine } from "xstate";
import { fromProcess, Runtime, type ExitResult, type ProcessInfo, type RuntimeOptions } from "../../src/index.ts";
import type { SupervisionEvent } from "../../src/supervision/index.ts";
import type { ActorChildInput, ChildInput, ServiceChildInput } from "../../supervisors/spec.ts";
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

/** For a test file: `open(yaml?, opts?)` is openSupervised, and every runtime it opened is closed after each test. */
export function useSupervised() {
  const opened: Runtime[] = [];
  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close(100);
  });
  return async (yaml?: string, opts: Partial<RuntimeOptions> = {}) => {
    const s = await openSupervised(yaml, opts);
    opened.push(s.runtime);
    return s;
  };
}

/** Restarts at once unless a test asks for a backoff. */
const AT_ONCE = { initialDelay: 0, maxDelay: 0 };

/** A child that sleeps (for 10 minutes unless told) until cancelled or killed. */
export function sleeper(id: string, extra: Partial<ServiceChildInput> = {}): ServiceChildInput {
  return { id, process: "t:sleeper", host: "t:hosts", input: ["600000"], restart: { ...AT_ONCE }, ...extra };
}

/** A child running behave(mode): 0 returns 0, 1 traps. */
export function behave(id: string, mode: number, extra: Partial<ServiceChildInput> = {}): ServiceChildInput {
  return { id, process: "t:behave", host: "t:hosts", input: [mode], restart: { ...AT_ONCE }, ...extra };
}

/** What a TS sleeper returns when it is cancelled: it handles CANCEL, so it ends with a value. */
export const TS_SLEEPER_VALUE = "stopped on CANCEL";

/** Waits in `receive` for CANCEL (other events stay queued), then returns. */
export const tsSleeperLogic = fromProcess(async ({ receive }) => {
  await receive({ match: (e) => e.type === "CANCEL" });
  return TS_SLEEPER_VALUE;
});

/** A TS sleeper that throws (EXIT kind error, message "asked to crash") when sent a message on topic "crash". */
export const tsCrasherLogic = fromProcess(async ({ receive }) => {
  const ev = await receive({ match: (e) => e.type === "CANCEL" || (e.type === "MESSAGE" && e.topic === "crash") });
  if (ev?.type === "CANCEL") return TS_SLEEPER_VALUE;
  throw new Error("asked to crash");
});

/** behave(mode) in TypeScript: 0 returns 0, 1 throws (EXIT kind error). */
const tsBehaveLogic = fromProcess<number, number>(async ({ input }) => {
  if (input === 1) throw new Error("behave: mode 1 fails");
  return input;
});

/** A machine that handles no event: CANCEL changes nothing, only a kill ends it. */
const tsStubbornLogic = createMachine({ id: "stubborn" });

/** Supervision settings a test may give any child, whatever its kind. */
export type ChildExtra = Pick<ServiceChildInput, "restart" | "stopTimeout">;

/** The TS counterpart of `sleeper`: waits until cancelled (returns) or killed. */
export function tsSleeper(id: string, extra: ChildExtra = {}): ActorChildInput {
  return { id, actor: tsSleeperLogic, host: "t:hosts", restart: { ...AT_ONCE }, ...extra };
}

/** A TS sleeper that crashes on request (`tsCrasherLogic`). */
export function tsCrasher(id: string, extra: ChildExtra = {}): ActorChildInput {
  return { id, actor: tsCrasherLogic, host: "t:hosts", restart: { ...AT_ONCE }, ...extra };
}

/** The TS counterpart of `behave`: mode 0 returns 0, 1 throws. */
export function tsBehave(id: string, mode: 0 | 1, extra: ChildExtra = {}): ActorChildInput {
  return { id, actor: tsBehaveLogic, input: mode, host: "t:hosts", restart: { ...AT_ONCE }, ...extra };
}

/**
 * One kind of child for the OTP scenarios, with what its ends look like: a WASM
 * sleeper cancelled ends with kind `cancelled` and a trap with kind `trap`; a TS
 * sleeper handles CANCEL and returns a value, and a throw ends with kind `error`.
 */
export interface ChildKit {
  /** The kind runtime.processes() lists such a child as. */
  kind: "wasm" | "actor";
  sleeper(id: string, extra?: ChildExtra): ChildInput;
  /** 0: ends normally at once; 1: crashes at once. */
  behave(id: string, mode: 0 | 1, extra?: ChildExtra): ChildInput;
  /** Ignores CANCEL, so only the kill after its stop timeout ends it. */
  stubborn(id: string, extra?: ChildExtra): ChildInput;
  /** A sleeper outside any supervisor, monitored by the runtime's own process → its pid. */
  spawnSleeper(rt: Runtime): Promise<string>;
  /** The EXIT kind of a crash (behave mode 1). */
  crashKind: "trap" | "error";
  /** The result of a sleeper that was cancelled (a matcher where only the kind is certain). */
  cancelled: ExitResult;
  /** That result as a shutdown log shows it: the error kind, or "value". */
  cancelledAs: "cancelled" | "value";
}

export const wasmKit: ChildKit = {
  kind: "wasm",
  sleeper,
  behave,
  // a guest that computes and never waits: CANCEL cannot reach it
  stubborn: (id, extra = {}) => ({ id, process: "t:spinner", host: "t:hosts", input: [], restart: { ...AT_ONCE }, ...extra }),
  spawnSleeper: (rt) => rt.process.spawnMonitored("t:sleeper", "t:hosts", "600000"),
  crashKind: "trap",
  cancelled: { error: expect.objectContaining({ kind: "cancelled" }) },
  cancelledAs: "cancelled",
};

export const tsKit: ChildKit = {
  kind: "actor",
  sleeper: tsSleeper,
  behave: tsBehave,
  stubborn: (id, extra = {}) => ({ id, actor: tsStubbornLogic, host: "t:hosts", restart: { ...AT_ONCE }, ...extra }),
  spawnSleeper: (rt) => rt.spawnActor(tsSleeperLogic, { host: "t:hosts", monitor: true }),
  crashKind: "error",
  cancelled: { value: TS_SLEEPER_VALUE },
  cancelledAs: "value",
};

/** For `describe.each(CHILD_KITS)`: the scenario's name, then its kit. */
export const CHILD_KITS: [string, ChildKit][] = [["WASM", wasmKit], ["TypeScript", tsKit]];

/** Polls until `f` returns (or resolves to) something truthy; only a failure waits the whole timeout. */
export async function until<T>(f: () => T | Promise<T>, timeoutMs = 15_000, what = "condition"): Promise<NonNullable<T>> {
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
