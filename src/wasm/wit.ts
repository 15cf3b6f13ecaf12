// Just enough WIT to check a spawn's arguments before they reach jco, which
// coerces silently ("x" → 0 for an s32). Strings from the CLI become numbers
// or booleans where the parameter says so.

import { ProcessError } from "../process/exit.ts";

export interface WitParam {
  name: string;
  type: string;
}

/** Function signatures by `name` (world exports) and `iface#name` (interface exports, short name). */
export type WitSignatures = Record<string, WitParam[]>;

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "<") depth++;
    if (ch === ">") depth--;
    if (ch === "," && depth === 0) {
      if (cur.trim()) parts.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

function parseParams(text: string): WitParam[] {
  return splitTopLevel(text).map((p) => {
    const colon = p.indexOf(":");
    return { name: p.slice(0, colon).trim(), type: p.slice(colon + 1).trim() };
  });
}

const FUNC = /(?:^|\s)(%?[a-z][a-z0-9-]*)\s*:\s*(?:async\s+)?func\s*\(([^)]*)\)/g;

function functionsIn(body: string): Record<string, WitParam[]> {
  const out: Record<string, WitParam[]> = {};
  for (const m of body.matchAll(FUNC)) out[m[1]!.replace(/^%/, "")] = parseParams(m[2]!);
  return out;
}

/** Finds the `{ ... }` block that starts at or after `from`. */
function block(text: string, from: number): string {
  const open = text.indexOf("{", from);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  return "";
}

/** Reads the exported functions of a component from its WIT text (as `jco wit` prints it). */
export function exportedSignatures(wit: string): WitSignatures {
  const sigs: WitSignatures = {};
  const interfaces = new Map<string, string>();
  for (const m of wit.matchAll(/(?:^|\n)\s*interface\s+(%?[a-z][a-z0-9-]*)\s*\{/g)) {
    interfaces.set(m[1]!.replace(/^%/, ""), block(wit, m.index!));
  }
  const worldMatch = /(?:^|\n)\s*world\s+[a-z0-9-%]+\s*\{/.exec(wit);
  const world = worldMatch ? block(wit, worldMatch.index) : "";
  for (const m of world.matchAll(/export\s+(%?[a-z][a-z0-9-]*)\s*:\s*(?:async\s+)?func\s*\(([^)]*)\)/g)) {
    sigs[m[1]!.replace(/^%/, "")] = parseParams(m[2]!);
  }
  for (const m of world.matchAll(/export\s+(%?[a-z][a-z0-9-]*)\s*:\s*interface\s*\{/g)) {
    for (const [fn, params] of Object.entries(functionsIn(block(world, m.index!)))) sigs[`${m[1]!.replace(/^%/, "")}#${fn}`] = params;
  }
  for (const m of world.matchAll(/export\s+([a-z0-9-]+:[a-z0-9-/]+\/)?([a-z][a-z0-9-]*)(@[^;\s]*)?\s*;/g)) {
    const body = interfaces.get(m[2]!);
    if (body) for (const [fn, params] of Object.entries(functionsIn(body))) sigs[`${m[2]}#${fn}`] = params;
  }
  return sigs;
}

/** `test:types/calc@1.0#double` → `calc#double`; `greet` → `greet`. */
export function signatureKey(method: string): string {
  const hash = method.indexOf("#");
  if (hash < 0) return method;
  const iface = method.slice(0, hash).replace(/@.*$/, "");
  return `${iface.slice(iface.lastIndexOf("/") + 1)}#${method.slice(hash + 1)}`;
}

const INT_RANGES: Record<string, [number, number]> = {
  s8: [-128, 127],
  u8: [0, 255],
  s16: [-32768, 32767],
  u16: [0, 65535],
  s32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};

function bad(where: string, type: string, value: unknown): ProcessError {
  const shown = typeof value === "string" ? JSON.stringify(value) : typeof value === "bigint" ? `${value}n` : Array.isArray(value) ? "a list" : value === null ? "null" : typeof value === "object" ? "an object" : String(value);
  return new ProcessError("spawn", `${where} must be ${type}, got ${shown}`);
}

/** Checks (and, for strings from the command line, converts) one value against a WIT type. */
export function coerce(value: unknown, type: string, where: string): unknown {
  const t = type.replace(/\s+/g, "");
  const range = INT_RANGES[t];
  if (range) {
    const v = typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : typeof value === "bigint" ? Number(value) : value;
    if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) throw bad(where, `an integer (${t})`, value);
    return v;
  }
  if (t === "s64" || t === "u64") {
    if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return BigInt(value.trim());
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    if (typeof value === "bigint") return value;
    throw bad(where, `an integer (${t})`, value);
  }
  if (t === "f32" || t === "f64" || t === "float32" || t === "float64") {
    const v = typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
    if (typeof v !== "number") throw bad(where, `a number (${t})`, value);
    return v;
  }
  if (t === "bool") {
    if (value === "true" || value === "false") return value === "true";
    if (typeof value !== "boolean") throw bad(where, "a boolean", value);
    return value;
  }
  if (t === "string") {
    if (typeof value !== "string") throw bad(where, "a string", value);
    return value;
  }
  if (t === "char") {
    if (typeof value !== "string" || [...value].length !== 1) throw bad(where, "a single character (char)", value);
    return value;
  }
  const list = /^list<(.+)>$/.exec(t);
  if (list) {
    if (!Array.isArray(value)) throw bad(where, `a list (${t})`, value);
    return value.map((v, i) => coerce(v, list[1]!, `${where}[${i}]`));
  }
  return value; // records, variants, resources…: jco checks their shape
}

export function coerceArgs(args: unknown[], params: WitParam[], method: string): unknown[] {
  if (args.length !== params.length) {
    const list = params.map((p) => `${p.name}: ${p.type}`).join(", ");
    throw new ProcessError("spawn", `${method} takes ${params.length} argument${params.length === 1 ? "" : "s"} (${list || "none"}), got ${args.length}`);
  }
  return args.map((a, i) => coerce(a, params[i]!.type, `argument ${i + 1} (${params[i]!.name}) of ${method}`));
}
