// Shared setup for the tests of the process API inside a guest (SPEC 7): a registry in
// namespace `probe` with one entry per function of fixtures/c/guest_probe.c, the entries
// the probe spawns (probe:compute, probe:trap) or may not (probe:forbidden), the echo
// service and the echo component; and a helper that waits for one process's EXIT.

import type { ExitResult, MailboxEvent, Runtime } from "../../src/index.ts";

/** guest_probe.c's exports; each is an entry `probe:<name>` running that method. */
const PROBE_FUNCTIONS = [
  "self_pid", "wait_event", "spawn_refused", "monitor_entry", "trap_links", "relay", "sender", "collect",
  "fill", "result_bytes", "result_json", "inspect", "bad_calls",
];

/** The guest grant every probe entry holds (`nap` sleeps through WASI poll_oneoff: wasi:io). */
const GRANT = "imports: [wippy:process, wasi:io], process: { spawn: [probe:compute, probe:trap] }";

export const PROBE_YAML = `
namespace: probe
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host, host: { max_processes: 20000 } }
  - { name: small, kind: process.host, limits: { max_mailbox: 3 } }
  - { name: compute, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
  - { name: trap, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: trap }
  - { name: forbidden, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: answer }
${PROBE_FUNCTIONS.map((f) => `  - { name: ${f}, kind: process.wasm, fs: bin, path: /probe.wasm, hash: "{{hash:wasm/probe.wasm}}", method: ${f}, ${GRANT} }`).join("\n")}
  - { name: nap, kind: process.wasm, fs: bin, path: /probe.wasm, hash: "{{hash:wasm/probe.wasm}}", method: nap, ${GRANT}, limits: { max_mailbox: 3 } }
  - { name: echo, kind: process.wasm, fs: bin, path: /echo_service.wasm, hash: "{{hash:wasm/echo_service.wasm}}", method: serve, imports: [wippy:process] }
  - { name: echo_component, kind: process.wasm, fs: bin, path: /echo_component.wasm, hash: "{{hash:wasm/echo_component.wasm}}", method: serve, imports: [wippy:process] }
`;

export const PROBE_BINARIES = {
  "wasm/compute.wasm": "core/compute.wasm",
  "wasm/probe.wasm": "c/guest_probe.core.wasm",
  "wasm/echo_service.wasm": "c/echo_service.core.wasm",
  "wasm/echo_component.wasm": "c/echo_component.wasm",
};

export const HOST = "probe:hosts";

/** Event kinds as guest_probe returns them (include/wippy/process.h). */
export const KIND = { TIMEOUT: 0, MESSAGE: 1, EXIT: 2, LINK_DOWN: 3, CANCEL: 4 } as const;
/** Error codes of the core-module ABI. */
export const ERR = { NOPROC: -1, MAILBOX_FULL: -2, DENIED: -3, INVALID: -4, SPAWN: -5 } as const;

type Receiver = Pick<Runtime["process"], "receive">;

/** The EXIT result of `pid`, received by `proc` (which must monitor it). */
export async function exitOf(proc: Receiver, pid: string, timeoutMs = 30_000): Promise<ExitResult> {
  const ev = await proc.receive({ match: (e) => e.type === "EXIT" && e.from === pid, timeout: timeoutMs });
  if (!ev || ev.type !== "EXIT") throw new Error(`no EXIT from ${pid} within ${timeoutMs} ms`);
  return "error" in ev ? { error: ev.error } : { value: ev.value };
}

/** Spawns `probe:<fn>` monitored from the runtime's own process and waits for its EXIT. */
export async function runProbe(rt: Runtime, fn: string, ...args: unknown[]): Promise<ExitResult> {
  const pid = await rt.process.spawnMonitored(`probe:${fn}`, HOST, ...args);
  return exitOf(rt.process, pid);
}

/** Matches a MESSAGE on `topic` (from `from`, if given). */
export const message = (topic: string, from?: string) => (e: MailboxEvent) =>
  e.type === "MESSAGE" && e.topic === topic && (from === undefined || e.from === from);

/** n payloads 0, 1, ..., n-1. */
export const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
