// Reads typed values out of located YAML nodes. Every problem becomes an issue
// naming file, line, entry and field; readers return undefined instead of throwing
// so one entry can report all of its mistakes.
import type { RegistryIssue } from "./errors.ts";
import { substituteEnv } from "./env.ts";
import type { Env } from "./env.ts";
import { qualifyReference } from "./ids.ts";
import type { EntryId, EntryKind } from "./types.ts";
import { parseDuration, parseSize } from "./units.ts";
import type { UnitResult } from "./units.ts";
import { describeNode } from "./yaml-tree.ts";
import type { MapNode, Scalar, TreeNode } from "./yaml-tree.ts";

/** A reference to another entry, checked once every entry is known. */
export interface Reference {
  id: EntryId;
  kinds: readonly EntryKind[];
  file: string;
  line: number;
  entry?: string;
  field: string;
}

export interface EntryContext {
  file: string;
  /** Entry ID for messages; undefined while the entry's own name is unknown. */
  entry?: string;
  namespace: string;
  env: Env;
  issues: RegistryIssue[];
  references: Reference[];
}

export function report(ctx: EntryContext, line: number, field: string | undefined, message: string): void {
  const issue: RegistryIssue = { file: ctx.file, line, message };
  if (ctx.entry !== undefined) issue.entry = ctx.entry;
  if (field !== undefined && field !== "") issue.field = field;
  ctx.issues.push(issue);
}

interface ScalarRead {
  value: Scalar;
  /** The value came from `${env:...}`: strings may stand for numbers and booleans. */
  fromEnv: boolean;
}

function readScalar(node: TreeNode, field: string, ctx: EntryContext, expected: string): ScalarRead | undefined {
  if (node.type !== "scalar") {
    report(ctx, node.line, field, `must be ${expected} (got ${describeNode(node)})`);
    return undefined;
  }
  if (typeof node.value !== "string") return { value: node.value, fromEnv: false };
  const result = substituteEnv(node.value, ctx.env);
  for (const error of result.errors) report(ctx, node.line, field, error);
  if (result.errors.length > 0) return undefined;
  return { value: result.value, fromEnv: result.substituted };
}

export interface StringOptions {
  /** Accept numbers and booleans and turn them into strings. */
  coerce?: boolean;
  allowEmpty?: boolean;
}

export function readString(node: TreeNode, field: string, ctx: EntryContext, options: StringOptions = {}): string | undefined {
  const read = readScalar(node, field, ctx, "a string");
  if (read === undefined) return undefined;
  let { value } = read;
  if (options.coerce && (typeof value === "number" || typeof value === "boolean")) value = String(value);
  if (typeof value !== "string") {
    report(ctx, node.line, field, `must be a string (got ${describeNode(node)})`);
    return undefined;
  }
  if (value === "" && !options.allowEmpty) {
    report(ctx, node.line, field, "must not be empty");
    return undefined;
  }
  return value;
}

export function readBoolean(node: TreeNode, field: string, ctx: EntryContext): boolean | undefined {
  const read = readScalar(node, field, ctx, "true or false");
  if (read === undefined) return undefined;
  if (typeof read.value === "boolean") return read.value;
  if (read.fromEnv && typeof read.value === "string") {
    const text = read.value.trim().toLowerCase();
    if (text === "true" || text === "false") return text === "true";
  }
  report(ctx, node.line, field, `must be true or false (got ${describeNode(node)})`);
  return undefined;
}

function numericValue(read: ScalarRead): Scalar {
  if (read.fromEnv && typeof read.value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(read.value)) {
    return Number(read.value);
  }
  return read.value;
}

export interface NumberOptions {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function readNumber(node: TreeNode, field: string, ctx: EntryContext, options: NumberOptions = {}): number | undefined {
  const read = readScalar(node, field, ctx, describeNumber(options));
  if (read === undefined) return undefined;
  const result = checkNumber(numericValue(read), options);
  if (!result.ok) {
    report(ctx, node.line, field, result.message);
    return undefined;
  }
  return result.value;
}

/** A number within `options`, or the message saying what it must be (shared with supervisors/rules.ts). */
export function checkNumber(value: unknown, options: NumberOptions = {}): UnitResult {
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!options.integer || Number.isSafeInteger(value)) &&
    (options.min === undefined || value >= options.min) &&
    (options.max === undefined || value <= options.max);
  return valid ? { ok: true, value } : { ok: false, message: `must be ${describeNumber(options)} (got ${describeGiven(value)})` };
}

/** A plain value as messages show it, as describeNode does for YAML nodes: `the string "x"`, `the number 2`, `a mapping`. */
export function describeGiven(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string "${value}"`;
  return `the ${typeof value} ${String(value)}`;
}

function describeNumber(options: NumberOptions): string {
  const noun = options.integer ? "an integer" : "a number";
  if (options.integer && options.min === 1 && options.max === undefined) return "a positive integer";
  if (options.min !== undefined && options.max !== undefined) return `${noun} from ${options.min} to ${options.max}`;
  if (options.min !== undefined) return `${noun} >= ${options.min}`;
  return noun;
}

function readUnit(
  node: TreeNode,
  field: string,
  ctx: EntryContext,
  parse: (input: unknown) => UnitResult,
  positive: boolean,
): number | undefined {
  const read = readScalar(node, field, ctx, "a number or a string with a unit");
  if (read === undefined) return undefined;
  const result = parse(numericValue(read));
  if (!result.ok) {
    report(ctx, node.line, field, result.message);
    return undefined;
  }
  if (positive && result.value <= 0) {
    report(ctx, node.line, field, `must be greater than zero (got ${describeNode(node)})`);
    return undefined;
  }
  return result.value;
}

/** Milliseconds; plain numbers are milliseconds. */
export function readDuration(node: TreeNode, field: string, ctx: EntryContext, positive = false): number | undefined {
  return readUnit(node, field, ctx, parseDuration, positive);
}

/** Bytes; plain numbers are bytes. */
export function readSize(node: TreeNode, field: string, ctx: EntryContext, positive = false): number | undefined {
  return readUnit(node, field, ctx, parseSize, positive);
}

export function readChoice<T extends string>(
  node: TreeNode,
  field: string,
  ctx: EntryContext,
  choices: readonly T[],
): T | undefined {
  const value = readString(node, field, ctx);
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as T;
  report(ctx, node.line, field, `"${value}" is not one of ${choices.join(", ")}${suggest(value, choices)}`);
  return undefined;
}

/** A reference to another entry; recorded for checking once all entries are known. */
export function readReference(
  node: TreeNode,
  field: string,
  ctx: EntryContext,
  kinds: readonly EntryKind[],
): EntryId | undefined {
  const value = readString(node, field, ctx);
  if (value === undefined) return undefined;
  const qualified = qualifyReference(value, ctx.namespace);
  if (!qualified.ok) {
    report(ctx, node.line, field, qualified.message);
    return undefined;
  }
  const reference: Reference = { id: qualified.id, kinds, file: ctx.file, line: node.line, field };
  if (ctx.entry !== undefined) reference.entry = ctx.entry;
  ctx.references.push(reference);
  return qualified.id;
}

export function readList(node: TreeNode, field: string, ctx: EntryContext, of: string): TreeNode[] | undefined {
  if (node.type === "seq") return node.items;
  report(ctx, node.line, field, `must be a list of ${of} (got ${describeNode(node)})`);
  return undefined;
}

/** Free-form value (meta, input, wit): any shape, with `${env:...}` substituted in strings. */
export function readPlain(node: TreeNode, field: string, ctx: EntryContext): unknown {
  if (node.type === "scalar") return readScalar(node, field, ctx, "a value")?.value ?? null;
  if (node.type === "seq") return node.items.map((item, index) => readPlain(item, `${field}[${index}]`, ctx));
  const result: Record<string, unknown> = {};
  for (const [key, pair] of node.pairs) result[key] = readPlain(pair.value, joinField(field, key), ctx);
  return result;
}

export function joinField(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

/** Levenshtein-based "did you mean" for typos in field names and choices. */
export function suggest(input: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * A mapping whose keys are read one by one; `finish()` reports the keys nobody
 * asked for, which catches typos like `hsah:` instead of silently ignoring them.
 */
export class FieldReader {
  readonly node: MapNode;
  readonly ctx: EntryContext;
  readonly prefix: string;
  private readonly known = new Set<string>();

  constructor(node: MapNode, ctx: EntryContext, prefix = "") {
    this.node = node;
    this.ctx = ctx;
    this.prefix = prefix;
  }

  field(key: string): string {
    return joinField(this.prefix, key);
  }

  /** The value node, or undefined when absent or explicitly empty (`key:`). */
  get(key: string): TreeNode | undefined {
    this.known.add(key);
    const value = this.node.pairs.get(key)?.value;
    if (value === undefined || (value.type === "scalar" && value.value === null)) return undefined;
    return value;
  }

  /** Marks keys as understood without reading them (handled elsewhere). */
  accept(...keys: string[]): void {
    for (const key of keys) this.known.add(key);
  }

  lineOf(key: string): number {
    return this.node.pairs.get(key)?.value.line ?? this.node.line;
  }

  report(key: string | undefined, message: string, line?: number): void {
    const at = line ?? (key === undefined ? this.node.line : this.lineOf(key));
    report(this.ctx, at, key === undefined ? this.prefix : this.field(key), message);
  }

  required(key: string, what: string): TreeNode | undefined {
    const node = this.get(key);
    if (node === undefined) this.report(key, `is required: ${what}`, this.node.pairs.get(key)?.keyLine ?? this.node.line);
    return node;
  }

  string(key: string, options?: StringOptions): string | undefined {
    const node = this.get(key);
    return node && readString(node, this.field(key), this.ctx, options);
  }

  boolean(key: string, fallback: boolean): boolean {
    const node = this.get(key);
    return (node && readBoolean(node, this.field(key), this.ctx)) ?? fallback;
  }

  number(key: string, options?: NumberOptions): number | undefined {
    const node = this.get(key);
    return node && readNumber(node, this.field(key), this.ctx, options);
  }

  duration(key: string, positive = false): number | undefined {
    const node = this.get(key);
    return node && readDuration(node, this.field(key), this.ctx, positive);
  }

  size(key: string, positive = false): number | undefined {
    const node = this.get(key);
    return node && readSize(node, this.field(key), this.ctx, positive);
  }

  choice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const node = this.get(key);
    return node && readChoice(node, this.field(key), this.ctx, choices);
  }

  reference(key: string, kinds: readonly EntryKind[], what?: string): EntryId | undefined {
    const node = what === undefined ? this.get(key) : this.required(key, what);
    return node && readReference(node, this.field(key), this.ctx, kinds);
  }

  list(key: string, of: string): TreeNode[] | undefined {
    const node = this.get(key);
    return node && readList(node, this.field(key), this.ctx, of);
  }

  /** A nested mapping read with its own unknown-field check. */
  map(key: string): FieldReader | undefined {
    const node = this.get(key);
    if (node === undefined) return undefined;
    if (node.type !== "map") {
      report(this.ctx, node.line, this.field(key), `must be a mapping of fields (got ${describeNode(node)})`);
      return undefined;
    }
    return new FieldReader(node, this.ctx, this.field(key));
  }

  /**
   * The value as written, `${env:...}` substituted (numbers from the environment
   * as numbers), for checks shared with code (supervisors/rules.ts); undefined
   * when absent or when the substitution failed (already reported).
   */
  value(key: string): unknown {
    const node = this.get(key);
    if (node === undefined) return undefined;
    if (node.type !== "scalar") return readPlain(node, this.field(key), this.ctx);
    const read = readScalar(node, this.field(key), this.ctx, "a value");
    return read === undefined ? undefined : numericValue(read);
  }

  plain(key: string): unknown {
    const node = this.get(key);
    return node && readPlain(node, this.field(key), this.ctx);
  }

  /** Reports every key that was never read as an unknown field. */
  finish(): void {
    const known = [...this.known];
    for (const [key, pair] of this.node.pairs) {
      if (this.known.has(key)) continue;
      const hint = suggest(key, known) || ` (known fields: ${known.join(", ")})`;
      report(this.ctx, pair.keyLine, this.field(key), `unknown field${hint}`);
    }
  }
}
