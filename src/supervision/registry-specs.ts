// Supervisor specs from the registry: process.supervisor trees and the
// auto_start services and supervisors that Runtime.open and `wippy run` start.

import { DEFAULT_SUPERVISOR_RESTART } from "../../supervisors/rules.ts";
import { normalizeSupervisor, type ChildSpec, type ServiceChildSpec, type SupervisorSpec } from "../../supervisors/spec.ts";
import type { ProcessServiceEntry, Registry } from "../registry/types.ts";

/** A service or supervisor entry as a child spec. */
export function childFromRegistry(registry: Registry, id: string): ChildSpec {
  const e = registry.entries.get(id);
  if (e?.kind === "process.service") return serviceChild(e);
  if (e?.kind === "process.supervisor") {
    // Supervisors stop their own children in time, so no kill timer over them; they come back at once.
    return { kind: "supervisor", id, supervisor: supervisorFromRegistry(registry, id), restart: { ...DEFAULT_SUPERVISOR_RESTART }, stopTimeout: Number.POSITIVE_INFINITY };
  }
  throw new Error(e ? `${id} is a ${e.kind}, not a process.service or process.supervisor entry` : `no entry ${id} in the registry`);
}

export function supervisorFromRegistry(registry: Registry, id: string): SupervisorSpec {
  const e = registry.entries.get(id);
  if (e?.kind !== "process.supervisor") throw new Error(e ? `${id} is a ${e.kind}, not a process.supervisor entry` : `no supervisor ${id} in the registry`);
  return normalizeSupervisor(
    { id, ...(e.host ? { host: e.host } : {}), strategy: e.strategy, intensity: e.intensity, period: e.period, children: e.children },
    { resolve: (child) => childFromRegistry(registry, child) },
  );
}

function serviceChild(e: ProcessServiceEntry): ServiceChildSpec {
  return { kind: "service", id: e.id, process: e.process, host: e.host, input: e.input, restart: e.restart, stopTimeout: e.stopTimeout, placement: e.placement };
}

/**
 * What starts on its own, in registry order: auto_start supervisors, and
 * auto_start services, each under an implicit one_for_one supervisor of the
 * same ID that restarts it by its own policy and backoff (no intensity limit;
 * `max_attempts` is the way to give up). An entry that is some supervisor's
 * child is started by that supervisor only.
 */
export function autoStartSpecs(registry: Registry): SupervisorSpec[] {
  const supervised = new Set<string>();
  for (const e of registry.entries.values()) if (e.kind === "process.supervisor") for (const c of e.children) supervised.add(c);
  const out: SupervisorSpec[] = [];
  for (const e of registry.entries.values()) {
    if (!("autoStart" in e) || !e.autoStart || supervised.has(e.id)) continue;
    if (e.kind === "process.supervisor") out.push(supervisorFromRegistry(registry, e.id));
    else if (e.kind === "process.service") {
      out.push({ id: e.id, host: e.host, strategy: "one_for_one", intensity: Number.MAX_SAFE_INTEGER, period: 1000, children: [serviceChild(e)] });
    }
  }
  return out;
}
