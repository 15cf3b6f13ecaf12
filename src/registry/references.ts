// Checks that need the whole registry: references resolve to entries of the
// right kind, and supervisors form a tree (one parent per child, no cycles).
import { displayPath } from "./errors.ts";
import type { RegistryIssue } from "./errors.ts";
import { suggest } from "./fields.ts";
import type { Reference } from "./fields.ts";
import type { Entry, EntryId } from "./types.ts";

function issueAt(reference: Reference, message: string): RegistryIssue {
  const issue: RegistryIssue = { file: reference.file, line: reference.line, field: reference.field, message };
  if (reference.entry !== undefined) issue.entry = reference.entry;
  return issue;
}

export function where(entry: Entry, root: string): string {
  return `${displayPath(entry.origin.file, root)}:${entry.origin.line}`;
}

export function checkReferences(entries: Map<EntryId, Entry>, references: readonly Reference[]): RegistryIssue[] {
  const issues: RegistryIssue[] = [];
  for (const reference of references) {
    const target = entries.get(reference.id);
    const expected = reference.kinds.join(" or ");
    if (target === undefined) {
      const candidates = [...entries.values()].filter((entry) => reference.kinds.includes(entry.kind)).map((entry) => entry.id);
      const hint = suggest(reference.id, candidates);
      issues.push(issueAt(reference, `refers to ${reference.id}, which is not defined${hint}; define a ${expected} entry with that ID or fix the reference`));
    } else if (!reference.kinds.includes(target.kind)) {
      issues.push(issueAt(reference, `refers to ${reference.id}, which is a ${target.kind}; expected an entry of kind ${expected}`));
    }
  }
  return issues;
}

const CHILD_FIELD = /^children\[\d+\]$/;

/** One parent per child and no cycles among supervisors. */
export function checkSupervisorTree(
  entries: Map<EntryId, Entry>,
  references: readonly Reference[],
  root: string,
): RegistryIssue[] {
  const issues: RegistryIssue[] = [];
  const parentOf = new Map<EntryId, EntryId>();
  const edges = new Map<EntryId, Reference[]>();
  for (const reference of references) {
    if (reference.entry === undefined || !CHILD_FIELD.test(reference.field)) continue;
    const parent = entries.get(reference.entry);
    const child = entries.get(reference.id);
    if (parent?.kind !== "process.supervisor" || child === undefined) continue;
    if (child.kind !== "process.service" && child.kind !== "process.supervisor") continue;
    const previous = parentOf.get(child.id);
    if (previous !== undefined && previous !== parent.id) {
      const other = entries.get(previous);
      const at = other === undefined ? "" : ` (${where(other, root)})`;
      issues.push(issueAt(reference, `${child.id} is already a child of ${previous}${at}; a child belongs to at most one supervisor`));
      continue;
    }
    parentOf.set(child.id, parent.id);
    if (child.kind === "process.supervisor") {
      const list = edges.get(parent.id) ?? [];
      list.push(reference);
      edges.set(parent.id, list);
    }
  }
  issues.push(...findCycles(edges));
  return issues;
}

function findCycles(edges: Map<EntryId, Reference[]>): RegistryIssue[] {
  const issues: RegistryIssue[] = [];
  const state = new Map<EntryId, "visiting" | "done">();
  const stack: EntryId[] = [];
  const visit = (node: EntryId): void => {
    state.set(node, "visiting");
    stack.push(node);
    for (const edge of edges.get(node) ?? []) {
      const next = edge.id;
      const seen = state.get(next);
      if (seen === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        issues.push(issueAt(edge, `supervisor cycle ${cycle.join(" -> ")}; a supervisor cannot (indirectly) supervise itself`));
      } else if (seen === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return issues;
}
