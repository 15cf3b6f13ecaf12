// Fields accepted so that a Wippy registry loads unchanged, but that do nothing in
// this runtime (SPEC section 2). `wippy lint` names each one, as a warning: the
// registry is valid, and lint still passes.

import type { RegistryIssue } from "./errors.ts";
import type { Registry } from "./types.ts";

export function noEffectWarnings(registry: Registry): RegistryIssue[] {
  const warnings: RegistryIssue[] = [];
  for (const entry of registry.entries.values()) {
    if (entry.kind === "process.host" && entry.queueSize !== undefined) {
      warnings.push({
        file: entry.origin.file,
        line: entry.origin.line,
        entry: entry.id,
        field: "host.queue_size",
        message: "has no effect here: it sizes Wippy's run queue, which this runtime does not have; it is accepted so the same registry also runs on Wippy",
      });
    }
  }
  return warnings;
}
