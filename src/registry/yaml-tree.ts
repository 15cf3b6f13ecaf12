// Parses a YAML text into a small tree of located nodes: every map, list and
// scalar knows its 1-based line so issues can point at the offending field.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit } from "yaml";
import type { Alias, Document, Node as YamlNode } from "yaml";

export type Scalar = string | number | boolean | null;

export interface ScalarNode {
  type: "scalar";
  value: Scalar;
  line: number;
}

export interface MapPair {
  key: string;
  keyLine: number;
  value: TreeNode;
}

export interface MapNode {
  type: "map";
  line: number;
  pairs: Map<string, MapPair>;
}

export interface SeqNode {
  type: "seq";
  line: number;
  items: TreeNode[];
}

export type TreeNode = ScalarNode | MapNode | SeqNode;

export interface ParseProblem {
  line: number;
  message: string;
}

export interface ParsedYaml {
  /** Undefined when the text could not be parsed. */
  root?: TreeNode;
  problems: ParseProblem[];
}

const MAX_DEPTH = 200; // guards against self-referencing anchors
/** Aliases resolved while building the tree: a registry uses a few, an alias bomb billions. */
export const MAX_ALIAS_EXPANSIONS = 10_000;
/** Nodes built in all, aliases expanded: a large registry has tens of thousands. */
export const MAX_TREE_NODES = 200_000;

/** Thrown inside `convert` to stop at once: nothing else in a file that blew the cap is worth reading. */
class ExpansionLimit extends Error {
  readonly line: number;
  constructor(line: number, what: string) {
    super(`YAML aliases expand to ${what}; an alias bomb? Use fewer aliases (*name) or smaller anchored values`);
    this.line = line;
  }
}

/**
 * Each alias's anchored node, found in one pass (the last anchor of that name before it).
 * `Alias.resolve` walks the whole document on every call, which alone makes a few thousand
 * aliases slow.
 */
function aliasTargets(doc: Document): Map<Alias, YamlNode | undefined> {
  const anchored = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode | undefined>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchored.get(node.source));
      else if (node.anchor) anchored.set(node.anchor, node);
    },
  });
  return targets;
}

export function parseYamlTree(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => ({
        line: lineOf(error.pos[0]),
        message: `malformed YAML: ${error.message.replace(/\s*\n[\s\S]*$/, "")}`,
      })),
    };
  }
  const problems: ParseProblem[] = [];
  const targets = aliasTargets(doc);
  let aliases = 0;
  let nodes = 0;
  // Aliases are expanded here (each use is a copy with its own lines), so the caps live here too.
  // `aliasLine`: the alias written in the file that this copy is part of, where a cap is reported.
  const convert = (node: unknown, fallbackLine: number, depth: number, aliasLine?: number): TreeNode => {
    const line = lineOfNode(node, lineOf) ?? fallbackLine;
    if (++nodes > MAX_TREE_NODES) throw new ExpansionLimit(aliasLine ?? line, `more than ${MAX_TREE_NODES} nodes`);
    if (depth > MAX_DEPTH) {
      problems.push({ line, message: "YAML nests too deeply (recursive alias?)" });
      return { type: "scalar", value: null, line };
    }
    if (isAlias(node)) {
      if (++aliases > MAX_ALIAS_EXPANSIONS) throw new ExpansionLimit(aliasLine ?? line, `more than ${MAX_ALIAS_EXPANSIONS} copies`);
      return convert(targets.get(node), line, depth + 1, aliasLine ?? line);
    }
    if (isScalar(node)) {
      return { type: "scalar", value: toScalar(node.value), line };
    }
    if (isSeq(node)) {
      return { type: "seq", line, items: node.items.map((item) => convert(item, line, depth + 1, aliasLine)) };
    }
    if (isMap(node)) {
      const pairs = new Map<string, MapPair>();
      const merged: MapPair[] = [];
      for (const pair of node.items) {
        const keyLine = lineOfNode(pair.key, lineOf) ?? line;
        const value = convert(pair.value, keyLine, depth + 1, aliasLine);
        if (isScalar(pair.key) && (typeof pair.key.value === "symbol" || pair.key.value === "<<")) {
          // YAML merge key: copy pairs from the merged map(s) unless set here.
          const sources = value.type === "seq" ? value.items : [value];
          for (const source of sources) {
            if (source.type === "map") merged.push(...source.pairs.values());
            else problems.push({ line: keyLine, message: "a merge key (<<) must refer to a mapping" });
          }
          continue;
        }
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        pairs.set(key, { key, keyLine, value });
      }
      for (const pair of merged) if (!pairs.has(pair.key)) pairs.set(pair.key, pair);
      return { type: "map", line, pairs };
    }
    return { type: "scalar", value: null, line };
  };
  if (doc.contents === null) return { root: undefined, problems };
  try {
    return { root: convert(doc.contents, 1, 0), problems };
  } catch (err) {
    if (err instanceof ExpansionLimit) return { problems: [{ line: err.line, message: err.message }] };
    throw err;
  }
}

function lineOfNode(node: unknown, lineOf: (offset: number) => number): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? lineOf(range[0]) : undefined;
}

function toScalar(value: unknown): Scalar {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Plain JS value of a tree (no substitution). */
export function plainValue(node: TreeNode): unknown {
  if (node.type === "scalar") return node.value;
  if (node.type === "seq") return node.items.map(plainValue);
  const result: Record<string, unknown> = {};
  for (const [key, pair] of node.pairs) result[key] = plainValue(pair.value);
  return result;
}

export function describeNode(node: TreeNode): string {
  if (node.type === "map") return "a mapping";
  if (node.type === "seq") return "a list";
  if (node.value === null) return "nothing";
  if (typeof node.value === "string") return `the string "${node.value}"`;
  return `the ${typeof node.value} ${String(node.value)}`;
}
