// Child and supervisor specs: validated once, up front, into plain records the
// supervisor never has to check again (as OTP's supervisor:check_childspecs).

import type { RestartConfig, RestartPolicy, Strategy } from "../src/registry/types.ts";
import { DEFAULT_RESTART } from "./backoff.ts";

export const DEFAULT_INTENSITY = 3;
export const DEFAULT_PERIOD_MS = 5000;
export const DEFAULT_STOP_TIMEOUT_MS = 5000;

interface ChildBase {
  /** Unique among its siblings: a service or supervisor entry ID, or any name for code-built children. */
  id: string;
  restart: RestartConfig;
  /** ms a child gets after CANCEL before it is killed; Infinity for supervisors (they stop their own children in time). */
  stopTimeout: number;
}

/** A `process.wasm` entry run as a service. */
export interface ServiceChildSpec extends ChildBase {
  kind: "service";
  process: string;
  host: string;
  input: unknown[];
}

export interface SupervisorChildSpec extends ChildBase {
  kind: "supervisor";
  supervisor: SupervisorSpec;
}

/** Started by code (OTP's {M, F, A}): returns the pid of a process it created. */
export interface CustomChildSpec extends ChildBase {
  kind: "custom";
  start: (ctx: { supervisor: string }) => string;
}

export type ChildSpec = ServiceChildSpec | SupervisorChildSpec | CustomChildSpec;

export interface SupervisorSpec {
  id: string;
  /** Process host named in the supervisor's pid. */
  host?: string;
  strategy: Strategy;
  intensity: number;
  /** ms */
  period: number;
  children: ChildSpec[];
}

export interface ChildInput {
  id: string;
  /** A service: the process.wasm entry and its host. */
  process?: string;
  host?: string;
  input?: unknown[];
  /** A nested supervisor. */
  supervisor?: SupervisorInput;
  /** A child started by code; must return the pid of a live (or just ended) process. */
  start?: (ctx: { supervisor: string }) => string;
  /** A policy name or a (partial) restart config. */
  restart?: RestartPolicy | Partial<RestartConfig>;
  stopTimeout?: number;
}

export interface SupervisorInput {
  id: string;
  host?: string;
  strategy?: Strategy;
  intensity?: number;
  period?: number;
  /** Child inputs, or IDs of process.service / process.supervisor entries. */
  children: (ChildInput | string)[];
}

export interface NormalizeOptions {
  /** Resolves a child given by entry ID (registry services and supervisors). */
  resolve?: (id: string) => ChildSpec;
  /** Checks a service child against the runtime (entry and host exist); returns a problem or undefined. */
  checkService?: (child: ServiceChildSpec) => string | undefined;
}

export class SupervisorSpecError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join("\n  ")}`);
    this.name = "SupervisorSpecError";
    this.problems = problems;
  }
}

const STRATEGIES: readonly string[] = ["one_for_one", "one_for_all", "rest_for_one"];
const POLICIES: readonly string[] = ["permanent", "transient", "temporary"];

/** Validates a whole tree; throws one SupervisorSpecError listing every problem. */
export function normalizeSupervisor(input: SupervisorInput, opts: NormalizeOptions = {}): SupervisorSpec {
  const problems: string[] = [];
  const spec = supervisorSpec(input, opts, problems, "");
  if (problems.length > 0) throw new SupervisorSpecError(problems);
  return spec;
}

/** Validates one child (startChild) by the same rules as the children of normalizeSupervisor; throws a SupervisorSpecError. */
export function normalizeChild(input: ChildInput | string, opts: NormalizeOptions = {}, where = "child"): ChildSpec {
  const problems: string[] = [];
  const child = childSpec(input, opts, problems, where);
  if (!child || problems.length > 0) throw new SupervisorSpecError(problems);
  return child;
}

function supervisorSpec(input: SupervisorInput, opts: NormalizeOptions, problems: string[], path: string): SupervisorSpec {
  const where = `supervisor ${typeof input?.id === "string" && input.id !== "" ? input.id : "(no id)"}${path}`;
  const bad = (field: string, message: string) => problems.push(`${where}: ${field} ${message}`);
  if (typeof input?.id !== "string" || input.id === "") bad("id", "must be a non-empty string");
  const strategy = input?.strategy ?? "one_for_one";
  if (!STRATEGIES.includes(strategy)) bad("strategy", `must be one of ${STRATEGIES.join(", ")}, got ${JSON.stringify(strategy)}`);
  const intensity = input?.intensity ?? DEFAULT_INTENSITY;
  if (!Number.isInteger(intensity) || intensity < 0) bad("intensity", `must be an integer ≥ 0, got ${intensity}`);
  const period = input?.period ?? DEFAULT_PERIOD_MS;
  if (!(period > 0)) bad("period", `must be a positive number of ms, got ${period}`);
  const spec: SupervisorSpec = { id: input?.id ?? "", strategy, intensity, period, children: [] };
  if (input?.host !== undefined) spec.host = input.host;
  if (!Array.isArray(input?.children)) {
    bad("children", "must be a list");
    return spec;
  }
  const seen = new Set<string>();
  input.children.forEach((c, i) => {
    const child = childSpec(c, opts, problems, `${where}: children[${i}]`);
    if (!child) return;
    if (seen.has(child.id)) problems.push(`${where}: children[${i}] ${child.id} is listed twice; child ids must be unique`);
    seen.add(child.id);
    spec.children.push(child);
  });
  return spec;
}

function childSpec(input: ChildInput | string, opts: NormalizeOptions, problems: string[], where: string): ChildSpec | undefined {
  if (typeof input === "string") {
    if (!opts.resolve) {
      problems.push(`${where}: ${input} is an entry ID, but there is no registry to resolve it in`);
      return undefined;
    }
    try {
      return opts.resolve(input);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
  if (typeof input?.id !== "string" || input.id === "") {
    problems.push(`${where}: id must be a non-empty string`);
    return undefined;
  }
  const at = `${where} (${input.id})`;
  const kinds = [input.process !== undefined, input.supervisor !== undefined, input.start !== undefined].filter(Boolean).length;
  if (kinds !== 1) {
    problems.push(`${at}: give exactly one of process (a service), supervisor (a nested supervisor) or start (a function)`);
    return undefined;
  }
  const restart = restartConfig(input.restart, input.supervisor !== undefined, problems, at);
  const stopTimeout = input.stopTimeout ?? (input.supervisor !== undefined ? Number.POSITIVE_INFINITY : DEFAULT_STOP_TIMEOUT_MS);
  if (!(stopTimeout >= 0)) problems.push(`${at}: stopTimeout must be ≥ 0 ms, got ${stopTimeout}`);
  if (input.supervisor !== undefined) {
    return { kind: "supervisor", id: input.id, restart, stopTimeout, supervisor: supervisorSpec(input.supervisor, opts, problems, ` (under ${at})`) };
  }
  if (input.start !== undefined) {
    if (typeof input.start !== "function") problems.push(`${at}: start must be a function returning a pid`);
    return { kind: "custom", id: input.id, restart, stopTimeout, start: input.start };
  }
  if (typeof input.process !== "string" || input.process === "") problems.push(`${at}: process must be a process.wasm entry ID`);
  if (typeof input.host !== "string" || input.host === "") problems.push(`${at}: host must be a process.host entry ID`);
  if (input.input !== undefined && !Array.isArray(input.input)) problems.push(`${at}: input must be a list of arguments`);
  const child: ServiceChildSpec = { kind: "service", id: input.id, restart, stopTimeout, process: input.process ?? "", host: input.host ?? "", input: input.input ?? [] };
  const problem = opts.checkService?.(child);
  if (problem) problems.push(`${at}: ${problem}`);
  return child;
}

function restartConfig(input: ChildInput["restart"], nested: boolean, problems: string[], at: string): RestartConfig {
  const given = typeof input === "string" ? { policy: input } : (input ?? {});
  // A nested supervisor comes back at once by default: it has its own limits.
  const cfg: RestartConfig = { ...DEFAULT_RESTART, ...(nested ? { initialDelay: 0 } : {}), ...given };
  if (!POLICIES.includes(cfg.policy)) problems.push(`${at}: restart policy must be one of ${POLICIES.join(", ")}, got ${JSON.stringify(cfg.policy)}`);
  if (!(cfg.initialDelay >= 0)) problems.push(`${at}: restart.initialDelay must be ≥ 0 ms`);
  if (!(cfg.maxDelay >= cfg.initialDelay)) {
    if (given.maxDelay === undefined && given.initialDelay !== undefined && cfg.initialDelay >= 0) cfg.maxDelay = cfg.initialDelay;
    else problems.push(`${at}: restart.maxDelay (${cfg.maxDelay}) must be ≥ initialDelay (${cfg.initialDelay})`);
  }
  if (!(cfg.backoffFactor >= 1)) problems.push(`${at}: restart.backoffFactor must be ≥ 1`);
  if (!(cfg.jitter >= 0 && cfg.jitter <= 1)) problems.push(`${at}: restart.jitter must be within 0..1`);
  if (cfg.maxAttempts !== undefined && !(Number.isInteger(cfg.maxAttempts) && cfg.maxAttempts >= 1)) {
    problems.push(`${at}: restart.maxAttempts must be an integer ≥ 1`);
  }
  return cfg;
}
