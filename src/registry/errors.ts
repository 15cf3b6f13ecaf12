// Registry problems are collected, never thrown one by one: a user fixing a
// registry wants every mistake listed at once, each with file, line, entry and field.
import * as path from "node:path";

export interface RegistryIssue {
  /** Definition file (absolute, or as given to the validator). */
  file: string;
  /** 1-based YAML line, where known. */
  line?: number;
  /** Entry ID ("namespace:name") the issue belongs to, where known. */
  entry?: string;
  /** Field path inside the entry ("wasi.mounts[1].guest"). */
  field?: string;
  /** What is wrong and, where possible, how to fix it. */
  message: string;
}

/** Shows `file` relative to `root` when it lies inside it, else as given. */
export function displayPath(file: string, root?: string): string {
  if (root === undefined || !path.isAbsolute(file)) return file;
  const relative = path.relative(root, file);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return file;
  return relative.split(path.sep).join("/");
}

/** One line: "src/app.yaml:12: entry myns:worker, field hash: must be ...". */
export function formatIssue(issue: RegistryIssue, root?: string): string {
  const where = displayPath(issue.file, root) + (issue.line !== undefined ? `:${issue.line}` : "");
  const subject: string[] = [];
  if (issue.entry !== undefined) subject.push(`entry ${issue.entry}`);
  if (issue.field !== undefined) subject.push(`field ${issue.field}`);
  const prefix = subject.length > 0 ? `${where}: ${subject.join(", ")}` : where;
  return `${prefix}: ${issue.message.replace(/\s*\n\s*/g, " ")}`;
}

/** Orders issues by file, then line, keeping discovery order otherwise. */
export function sortIssues(issues: readonly RegistryIssue[]): RegistryIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => {
      if (a.issue.file !== b.issue.file) return a.issue.file < b.issue.file ? -1 : 1;
      const lineA = a.issue.line ?? 0;
      const lineB = b.issue.line ?? 0;
      return lineA !== lineB ? lineA - lineB : a.index - b.index;
    })
    .map(({ issue }) => issue);
}

export class RegistryError extends Error {
  readonly issues: RegistryIssue[];

  constructor(issues: readonly RegistryIssue[], root?: string) {
    const sorted = sortIssues(issues);
    super(sorted.map((issue) => formatIssue(issue, root)).join("\n"));
    this.name = "RegistryError";
    this.issues = sorted;
  }
}
