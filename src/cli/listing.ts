// Text views of the registry for `wippy run list` and `wippy registry ...`.

import { displayPath } from "../registry/errors.ts";
import type { Entry, Registry } from "../registry/types.ts";

export function runList(registry: Registry): string {
  const commands = [...registry.entries.values()]
    .flatMap((e) => ((e.kind === "process.wasm" || e.kind === "process.lua") && e.command ? [e.command] : []))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (commands.length === 0) return "no commands (declare meta.command on a process.wasm or process.lua entry)";
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => (c.short ? `${c.name.padEnd(width)}  ${c.short}` : c.name)).join("\n");
}

export function registryList(registry: Registry, kind?: string): string {
  const entries = [...registry.entries.values()].filter((e) => kind === undefined || e.kind === kind).sort((a, b) => a.id.localeCompare(b.id));
  if (entries.length === 0) return kind ? `no entries of kind ${kind}` : "no entries";
  const width = Math.max(...entries.map((e) => e.id.length));
  return entries.map((e) => `${e.id.padEnd(width)}  ${e.kind}`).join("\n");
}

export async function registryShow(registry: Registry, id: string): Promise<string> {
  const e = registry.entries.get(id);
  if (!e) throw new Error(`no entry ${id} in the registry; see wippy registry list`);
  const { origin, ...rest } = e as Entry;
  const { stringify } = await import("yaml"); // the YAML writer loads for this command only
  return `# ${displayPath(origin.file, registry.root)}:${origin.line}\n${stringify(rest).trimEnd()}`;
}
