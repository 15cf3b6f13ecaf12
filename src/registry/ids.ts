// Entry IDs: "namespace:name". Namespaces may be dotted ("app.workers");
// a reference without ":" lives in the referring file's namespace.
import type { EntryId } from "./types.ts";

const NAMESPACE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const NAME = /^[A-Za-z0-9_.-]+$/;

export function namespaceProblem(namespace: string): string | undefined {
  if (NAMESPACE.test(namespace)) return undefined;
  return `namespace "${namespace}" is not valid: use letters, digits, "_" and "-", with "." between parts (e.g. app.workers)`;
}

export function nameProblem(name: string): string | undefined {
  if (NAME.test(name)) return undefined;
  return `name "${name}" is not valid: use only letters, digits, "_", "-" and "."`;
}

export type QualifyResult = { ok: true; id: EntryId } | { ok: false; message: string };

/** Turns a reference ("name" or "ns:name") into a fully qualified entry ID. */
export function qualifyReference(reference: string, namespace: string): QualifyResult {
  const colon = reference.indexOf(":");
  const ns = colon < 0 ? namespace : reference.slice(0, colon);
  const name = colon < 0 ? reference : reference.slice(colon + 1);
  const shape = `must be an entry ID "namespace:name" or a name in this file's namespace (got "${reference}")`;
  if (ns === "" || name === "" || name.includes(":")) return { ok: false, message: shape };
  if (!NAMESPACE.test(ns) || !NAME.test(name)) return { ok: false, message: shape };
  return { ok: true, id: `${ns}:${name}` };
}
