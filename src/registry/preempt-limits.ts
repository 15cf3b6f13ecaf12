// Limits that only preemption can enforce (SPEC section 2). A guest on a host with
// `preempt: false` has no preemption points: it never gives the thread back, so nothing
// can check its clock or its fuel. Such a process is refused at spawn, and `wippy lint`
// warns where the registry already combines them. The rule lives here, for both.

import type { RegistryIssue } from "./errors.ts";
import type { Limits, Registry } from "./types.ts";

/** The limits set in `limits` that need preemption, by their YAML names. */
export function limitsNeedingPreemption(limits: Limits): string[] {
  const names: string[] = [];
  if (limits.maxExecutionMs !== undefined) names.push("max_execution_ms");
  if (limits.fuel !== undefined) names.push("fuel");
  return names;
}

const listed = (names: string[]) => names.map((n) => `limits.${n}`).join(" and ");
const verb = (names: string[]) => (names.length === 1 ? "needs" : "need");

/** The spawn error's text: `entry` with `limits` cannot run on process.host `host` (preempt: false). */
export function preemptRefusal(entry: string, host: string, names: string[]): string {
  return `${entry}: ${listed(names)} ${verb(names)} preemption, but process.host ${host} has preempt: false; drop ${names.length === 1 ? "the limit" : "them"} or spawn on another host`;
}

/**
 * Warnings for `wippy lint`: a process.host with preempt: false whose own limits set one
 * of them, and a process.service whose process would get one there (its own limits over
 * the host's), which every start would refuse.
 */
export function preemptLimitWarnings(registry: Registry): RegistryIssue[] {
  const warnings: RegistryIssue[] = [];
  for (const entry of registry.entries.values()) {
    if (entry.kind === "process.host" && entry.preempt === false) {
      const names = limitsNeedingPreemption(entry.limits);
      if (names.length === 0) continue;
      warnings.push({
        file: entry.origin.file,
        line: entry.origin.line,
        entry: entry.id,
        field: names.length === 1 ? `limits.${names[0]}` : "limits",
        message: `${listed(names)} ${verb(names)} preemption, but this host has preempt: false, so every process spawned on it is refused; drop ${names.length === 1 ? "the limit" : "them"} or the preempt: false`,
      });
    }
    if (entry.kind === "process.service") {
      const host = registry.entries.get(entry.host);
      const process = registry.entries.get(entry.process);
      if (host?.kind !== "process.host" || host.preempt !== false || (process?.kind !== "process.wasm" && process?.kind !== "process.lua")) continue;
      const names = limitsNeedingPreemption({ ...host.limits, ...process.limits });
      if (names.length === 0) continue;
      // an entry's own limit overrides its host's: name where each one comes from
      const fromProcess = names.filter((n) => limitsNeedingPreemption(process.limits).includes(n));
      const fromHost = names.filter((n) => !fromProcess.includes(n));
      const sources = [
        ...(fromProcess.length > 0 ? [`${listed(fromProcess)} (from process ${process.id})`] : []),
        ...(fromHost.length > 0 ? [`${listed(fromHost)} (from process.host ${host.id}'s defaults)`] : []),
      ];
      warnings.push({
        file: entry.origin.file,
        line: entry.origin.line,
        entry: entry.id,
        field: "host",
        message: `${sources.join(" and ")} ${verb(names)} preemption, but process.host ${host.id} has preempt: false, so this service cannot start; drop ${names.length === 1 ? "the limit" : "them"} or run it on a host with preemption`,
      });
    }
  }
  return warnings;
}
