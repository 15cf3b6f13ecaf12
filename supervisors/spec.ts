// Child and supervisor specs: validated once, up front, into plain records the
// supervisor never has to check again (as OTP's supervisor:check_childspecs).

import type { AnyActorLogic } from "xstate";
import { isActorLogic, LOGIC_KINDS } from "../src/process/actor-logic.ts";
import type { RestartConfig, RestartPolicy, Strategy } from "../src/registry/types.ts";
import {
  checkPlacement, checkRestart, checkStopTimeout, checkSupervisorSettings, DEFAULT_RESTART, DEFAULT_SUPERVISOR_RESTART, RESTART_POLICIES, unknownRestartKeys,
  type Placement, type RestartField, type RuleField, type RuleProblem,
} from "./rules.ts";

export { DEFAULT_INTENSITY, DEFAULT_PERIOD_MS, DEFAULT_STOP_TIMEOUT_MS } from "./rules.ts";

/** A duration: milliseconds, or a string with a unit ("250ms", "5s", "2m"), as in YAML. */
export type Duration = number | string;

/** Restart settings in code: as RestartConfig, with delays as durations. */
export type RestartInput = Partial<Omit<RestartConfig, "initialDelay" | "maxDelay"> & { initialDelay: Duration; maxDelay: Duration }>;

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
  /** A process.host, or `<node>@<process.host>` on another node of a cluster. */
  host: string;
  input: unknown[];
  /** Where it restarts when its node is down (section 9). */
  placement: Placement;
}

export interface SupervisorChildSpec extends ChildBase {
  kind: "supervisor";
  supervisor: SupervisorSpec;
}

/** TypeScript/XState logic run as a process; a restart starts it afresh with the same input. */
export interface ActorChildSpec extends ChildBase {
  kind: "actor";
  actor: AnyActorLogic;
  input: unknown;
  /** Default: the supervisor's host. */
  host?: string;
}

/** Started by code (OTP's {M, F, A}): returns the pid of a process it created. */
export interface CustomChildSpec extends ChildBase {
  kind: "custom";
  start: (ctx: { supervisor: string }) => string;
}

export type ChildSpec = ServiceChildSpec | ActorChildSpec | SupervisorChildSpec | CustomChildSpec;

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

interface ChildInputBase {
  id: string;
  /** A policy name or a (partial) restart config; delays are durations. */
  restart?: RestartPolicy | RestartInput;
  /** A duration (default 5 s; none for a nested supervisor, which stops its own children in time). */
  stopTimeout?: Duration;
}

/** A service: a process.wasm or process.actor entry, its host and its arguments. */
export interface ServiceChildInput extends ChildInputBase {
  process: string;
  /** A process.host, or `<node>@<process.host>` on another node of a cluster. */
  host: string;
  input?: unknown[];
  /** `local` (default): restart on the node it was placed on; `any`: on a node that is up. */
  placement?: Placement;
}

/** TypeScript/XState logic (a machine, fromPromise, fromCallback, fromProcess…); host defaults to the supervisor's. */
export interface ActorChildInput extends ChildInputBase {
  actor: AnyActorLogic;
  input?: unknown;
  host?: string;
}

export interface SupervisorChildInput extends ChildInputBase {
  supervisor: SupervisorInput;
}

/** A child started by code; must return the pid of a live (or just ended) process. */
export interface CustomChildInput extends ChildInputBase {
  start: (ctx: { supervisor: string }) => string;
}

/** A child of a supervisor built in code: exactly one of process, actor, supervisor or start. */
export type ChildInput = ServiceChildInput | ActorChildInput | SupervisorChildInput | CustomChildInput;

/** Every field any child input may have, for validating what a caller (maybe untyped) gave. */
type AnyChildInput = ChildInputBase & Partial<Omit<ServiceChildInput, "input"> & Omit<ActorChildInput, "input"> & SupervisorChildInput & CustomChildInput> & { input?: unknown };

export interface SupervisorInput {
  id: string;
  host?: string;
  strategy?: Strategy;
  intensity?: number;
  /** A duration: milliseconds, or a string with a unit (default 5 s). */
  period?: Duration;
  /** Child inputs, or IDs of process.service / process.supervisor entries. */
  children: (ChildInput | string)[];
}

export interface NormalizeOptions {
  /** Resolves a child given by entry ID (registry services and supervisors). */
  resolve?: (id: string) => ChildSpec;
  /** Checks a service child against the runtime (entry and host exist); returns a problem or undefined. */
  checkService?: (child: ServiceChildSpec) => string | undefined;
  /** Checks an actor child's host (undefined: the supervisor's); returns a problem or undefined. */
  checkHost?: (host: string | undefined) => string | undefined;
}

export class SupervisorSpecError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join("\n  ")}`);
    this.name = "SupervisorSpecError";
    this.problems = problems;
  }
}

/** How code spells each field in messages (YAML's are in rules.ts). */
const CODE_FIELD: Readonly<Record<RuleField, string>> = {
  policy: "restart.policy",
  initialDelay: "restart.initialDelay",
  maxDelay: "restart.maxDelay",
  backoffFactor: "restart.backoffFactor",
  jitter: "restart.jitter",
  maxAttempts: "restart.maxAttempts",
  strategy: "strategy",
  intensity: "intensity",
  period: "period",
  stopTimeout: "stopTimeout",
  placement: "placement",
};

/** "<where>: <field> <message>", the message being the YAML's. */
function reportAll(problems: string[], where: string, found: readonly RuleProblem[]): void {
  for (const p of found) problems.push(`${where}: ${CODE_FIELD[p.field]} ${p.message}`);
}

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
  const settings = checkSupervisorSettings({ strategy: input?.strategy, intensity: input?.intensity, period: input?.period });
  reportAll(problems, where, settings.problems);
  const spec: SupervisorSpec = { id: input?.id ?? "", ...settings.value, children: [] };
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
  return childFromInput(input as AnyChildInput, opts, problems, where);
}

function childFromInput(input: AnyChildInput, opts: NormalizeOptions, problems: string[], where: string): ChildSpec | undefined {
  if (typeof input?.id !== "string" || input.id === "") {
    problems.push(`${where}: id must be a non-empty string`);
    return undefined;
  }
  const at = `${where} (${input.id})`;
  const kinds = [input.process !== undefined, input.actor !== undefined, input.supervisor !== undefined, input.start !== undefined].filter(Boolean).length;
  if (kinds !== 1) {
    problems.push(`${at}: give exactly one of process (a service), actor (TypeScript/XState logic), supervisor (a nested supervisor) or start (a function)`);
    return undefined;
  }
  const restart = restartConfig(input.restart, input.supervisor !== undefined, problems, at);
  const stopTimeout = input.supervisor !== undefined && input.stopTimeout === undefined
    ? Number.POSITIVE_INFINITY
    : reported(checkStopTimeout(input.stopTimeout), problems, at);
  if (input.supervisor !== undefined) {
    return { kind: "supervisor", id: input.id, restart, stopTimeout, supervisor: supervisorSpec(input.supervisor, opts, problems, ` (under ${at})`) };
  }
  if (input.start !== undefined) {
    if (typeof input.start !== "function") problems.push(`${at}: start must be a function returning a pid`);
    return { kind: "custom", id: input.id, restart, stopTimeout, start: input.start };
  }
  if (input.actor !== undefined) {
    if (!isActorLogic(input.actor)) problems.push(`${at}: actor must be XState actor logic (${LOGIC_KINDS})`);
    if (input.host !== undefined && (typeof input.host !== "string" || input.host === "")) problems.push(`${at}: host must be a process.host entry ID`);
    const child: ActorChildSpec = { kind: "actor", id: input.id, restart, stopTimeout, actor: input.actor, input: input.input };
    if (input.host !== undefined) child.host = input.host;
    const problem = opts.checkHost?.(child.host);
    if (problem) problems.push(`${at}: ${problem}`);
    return child;
  }
  if (typeof input.process !== "string" || input.process === "") problems.push(`${at}: process must be a process.wasm or process.actor entry ID`);
  if (typeof input.host !== "string" || input.host === "") problems.push(`${at}: host must be a process.host entry ID`);
  if (input.input !== undefined && !Array.isArray(input.input)) problems.push(`${at}: input must be a list of arguments`);
  const placement = reported(checkPlacement(input.placement), problems, at);
  const child: ServiceChildSpec = { kind: "service", id: input.id, restart, stopTimeout, process: input.process ?? "", host: input.host ?? "", input: Array.isArray(input.input) ? input.input : [], placement };
  const problem = opts.checkService?.(child);
  if (problem) problems.push(`${at}: ${problem}`);
  return child;
}

function reported<T>(checked: { value: T; problems: RuleProblem[] }, problems: string[], at: string): T {
  reportAll(problems, at, checked.problems);
  return checked.value;
}

/** The same rules as YAML's lifecycle.restart (supervisors/rules.ts); a nested supervisor's default comes back at once. */
function restartConfig(input: ChildInput["restart"], nested: boolean, problems: string[], at: string): RestartConfig {
  const base = nested ? DEFAULT_SUPERVISOR_RESTART : DEFAULT_RESTART;
  if (input === undefined) return { ...base };
  if (typeof input === "string") return reported(checkRestart({ policy: input }, base), problems, at);
  if (typeof input !== "object" || input === null) {
    problems.push(`${at}: restart must be a policy name (${RESTART_POLICIES.join(", ")}) or an object of restart settings`);
    return { ...base };
  }
  for (const { key, message } of unknownRestartKeys(input)) problems.push(`${at}: restart.${key} ${message}`);
  return reported(checkRestart(input as Partial<Record<RestartField, unknown>>, base), problems, at);
}
