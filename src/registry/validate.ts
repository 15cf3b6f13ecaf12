// Pure validation of definition files (no disk access): texts in, typed entries
// and every issue found out. loadRegistry adds the disk checks around it.
import * as path from "node:path";
import type { Env } from "./env.ts";
import { displayPath } from "./errors.ts";
import type { RegistryIssue } from "./errors.ts";
import { FieldReader, readPlain, readString, report, suggest } from "./fields.ts";
import type { EntryContext, Reference } from "./fields.ts";
import { nameProblem, namespaceProblem } from "./ids.ts";
import { ENTRY_KINDS, isEntryKind, validateKind } from "./kinds.ts";
import { checkReferences, checkSupervisorTree, where } from "./references.ts";
import type { CommandMeta, Entry, EntryId, EntryKind } from "./types.ts";
import { describeNode, parseYamlTree } from "./yaml-tree.ts";
import type { MapNode, TreeNode } from "./yaml-tree.ts";

export interface SourceDocument {
  /** Path of the file (absolute, or relative to the root). */
  file: string;
  text: string;
}

export interface ValidationContext {
  /** Project root: relative paths in entries and files resolve against it. */
  root: string;
  /** Source folder (absolute, or relative to the root); `file://` modules must stay inside it. Default: the root. */
  src?: string;
  env: Env;
}

export interface ValidationResult {
  entries: Map<EntryId, Entry>;
  /** Absolute paths of the definition files, in the order given. */
  files: string[];
  issues: RegistryIssue[];
}

interface Collector {
  root: string;
  src: string;
  env: Env;
  entries: Map<EntryId, Entry>;
  commands: Map<string, { id: EntryId; file: string; line: number }>;
  issues: RegistryIssue[];
  references: Reference[];
}

const SUPPORTED_VERSIONS = ["1.0", "1"];
const COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const COMMAND_KINDS: readonly EntryKind[] = ["process.wasm", "function.wasm", "process.lua"];

export function validateDocuments(docs: readonly SourceDocument[], ctx: ValidationContext): ValidationResult {
  const collector: Collector = {
    root: ctx.root,
    src: path.resolve(ctx.root, ctx.src ?? "."),
    env: ctx.env,
    entries: new Map(),
    commands: new Map(),
    issues: [],
    references: [],
  };
  const files = docs.map((doc) => path.resolve(ctx.root, doc.file));
  docs.forEach((doc, index) => validateFile(files[index] ?? doc.file, doc.text, collector));
  collector.issues.push(...checkReferences(collector.entries, collector.references));
  collector.issues.push(...checkSupervisorTree(collector.entries, collector.references, ctx.root));
  return { entries: collector.entries, files, issues: collector.issues };
}

function validateFile(file: string, text: string, collector: Collector): void {
  const parsed = parseYamlTree(text);
  for (const problem of parsed.problems) collector.issues.push({ file, line: problem.line, message: problem.message });
  if (parsed.root === undefined) {
    if (parsed.problems.length === 0) {
      collector.issues.push({ file, line: 1, message: "is empty; a definition file needs namespace: and entries:" });
    }
    return;
  }
  if (parsed.root.type !== "map") {
    collector.issues.push({
      file,
      line: parsed.root.line,
      message: `must be a mapping with namespace: and entries: (got ${describeNode(parsed.root)})`,
    });
    return;
  }
  const fileCtx: EntryContext = {
    file,
    namespace: "",
    env: collector.env,
    issues: collector.issues,
    references: collector.references,
  };
  const top = new FieldReader(parsed.root, fileCtx);
  const version = top.get("version");
  if (version !== undefined) {
    const value = version.type === "scalar" ? String(version.value) : undefined;
    if (value === undefined || !SUPPORTED_VERSIONS.includes(value)) {
      top.report("version", `unsupported version ${value === undefined ? describeNode(version) : `"${value}"`}; use version: "1.0"`);
    }
  }
  const namespaceNode = top.required("namespace", "the namespace of this file's entries (e.g. namespace: myns)");
  const namespace = namespaceNode && readString(namespaceNode, "namespace", fileCtx);
  const namespaceIssue = namespace === undefined ? undefined : namespaceProblem(namespace);
  if (namespaceIssue !== undefined) top.report("namespace", namespaceIssue);
  const entriesNode = top.required("entries", "the list of entries (entries: [...])");
  top.accept("meta"); // file-level notes, free-form
  top.finish();
  if (entriesNode === undefined) return;
  if (entriesNode.type !== "seq") {
    top.report("entries", `must be a list of entries, each starting with "- name:" (got ${describeNode(entriesNode)})`);
    return;
  }
  const usableNamespace = namespace !== undefined && namespaceIssue === undefined ? namespace : undefined;
  entriesNode.items.forEach((item, index) => {
    validateEntry(item, index, usableNamespace, { ...fileCtx, namespace: usableNamespace ?? "" }, collector);
  });
}

function validateEntry(
  item: TreeNode,
  index: number,
  namespace: string | undefined,
  fileCtx: EntryContext,
  collector: Collector,
): void {
  const position = `entries[${index}]`;
  if (item.type !== "map") {
    report(fileCtx, item.line, position, `must be a mapping with name: and kind: (got ${describeNode(item)})`);
    return;
  }
  const name = readIdentity(item, "name", position, fileCtx);
  const nameIssue = name === undefined ? undefined : nameProblem(name);
  if (nameIssue !== undefined) report(fileCtx, item.pairs.get("name")?.value.line ?? item.line, "name", nameIssue);
  if (name === undefined || nameIssue !== undefined || namespace === undefined) return;

  const id = `${namespace}:${name}`;
  const ctx: EntryContext = { ...fileCtx, entry: id };
  const kind = readIdentity(item, "kind", position, ctx);
  if (kind === undefined) return;
  if (!isEntryKind(kind)) {
    const line = item.pairs.get("kind")?.value.line ?? item.line;
    report(ctx, line, "kind", `unknown kind "${kind}"${suggest(kind, ENTRY_KINDS)}; known kinds: ${ENTRY_KINDS.join(", ")}`);
    return;
  }

  const reader = new FieldReader(item, ctx);
  reader.accept("name", "kind");
  const { meta, command, commandLine } = readMeta(reader, kind);
  const base = { id, namespace, name, origin: { file: ctx.file, line: item.line }, meta };
  const input = { reader, base, root: collector.root, src: collector.src };
  const entry = validateKind(kind, command === undefined ? input : { ...input, command });
  reader.finish();

  const existing = collector.entries.get(id);
  if (existing !== undefined) {
    report(ctx, item.line, undefined, `duplicate entry ID ${id}: also defined at ${where(existing, collector.root)}; rename one of them`);
    return;
  }
  collector.entries.set(id, entry);

  if (command !== undefined && commandLine !== undefined) {
    const other = collector.commands.get(command.name);
    if (other !== undefined) {
      const at = `${displayPath(other.file, collector.root)}:${other.line}`;
      report(ctx, commandLine, "meta.command.name", `command name "${command.name}" is already used by ${other.id} (${at}); command names must be unique`);
    } else {
      collector.commands.set(command.name, { id, file: ctx.file, line: commandLine });
    }
  }
}

/** name and kind: required strings; messages say which entry lacks them. */
function readIdentity(item: MapNode, key: "name" | "kind", position: string, ctx: EntryContext): string | undefined {
  const node = item.pairs.get(key)?.value;
  if (node === undefined || (node.type === "scalar" && node.value === null)) {
    const who = ctx.entry ?? position;
    report(ctx, item.line, key, `${who} has no ${key}; every entry needs name: and kind:`);
    return undefined;
  }
  return readString(node, key, ctx);
}

interface MetaRead {
  meta: Record<string, unknown>;
  command?: CommandMeta;
  commandLine?: number;
}

function readMeta(reader: FieldReader, kind: EntryKind): MetaRead {
  const node = reader.get("meta");
  if (node === undefined) return { meta: {} };
  if (node.type !== "map") {
    reader.report("meta", `must be a mapping (got ${describeNode(node)})`);
    return { meta: {} };
  }
  const result: MetaRead = { meta: {} };
  for (const [key, pair] of node.pairs) {
    if (key !== "command") {
      result.meta[key] = readPlain(pair.value, `meta.${key}`, reader.ctx);
      continue;
    }
    const command = readCommand(pair.value, reader.ctx);
    if (command === undefined) continue;
    result.meta.command = { ...command.value };
    if (!COMMAND_KINDS.includes(kind)) {
      report(reader.ctx, pair.keyLine, "meta.command", `commands run a process.wasm, function.wasm or process.lua entry, not a ${kind}; move meta.command to one`);
      continue;
    }
    result.command = command.value;
    result.commandLine = command.line;
  }
  return result;
}

function readCommand(node: TreeNode, ctx: EntryContext): { value: CommandMeta; line: number } | undefined {
  if (node.type !== "map") {
    report(ctx, node.line, "meta.command", `must be a mapping {name, short} (got ${describeNode(node)})`);
    return undefined;
  }
  const reader = new FieldReader(node, ctx, "meta.command");
  const nameNode = reader.required("name", "the command name used with wippy run <name>");
  const name = reader.string("name");
  const short = reader.string("short", { allowEmpty: true });
  reader.finish();
  if (name === undefined || nameNode === undefined) return undefined;
  if (!COMMAND_NAME.test(name)) {
    reader.report("name", `"${name}" is not a valid command name: use letters, digits, "_", "-", "." and ":", no spaces`);
    return undefined;
  }
  const value: CommandMeta = short === undefined ? { name } : { name, short };
  return { value, line: nameNode.line };
}
