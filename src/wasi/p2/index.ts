// Our WASI Preview 2 host for components: one import object per process,
// holding only the interface groups the entry grants. Blocking calls return
// Promises and are listed in ASYNC_IMPORTS, so a waiting guest suspends alone.

import { interfaceGroup } from "../../wasm/capabilities.ts";
import type { ProcessIO } from "../../wasm/program.ts";
import { cliImports } from "./cli.ts";
import { clocksImports } from "./clocks.ts";
import { HostContext } from "./context.ts";
import { filesystemImports } from "./filesystem.ts";
import { httpImports } from "./http.ts";
import { ioImports } from "./io.ts";
import { randomImports } from "./random.ts";

export { ASYNC_IMPORTS } from "./async-imports.ts";

type Group = Record<string, Record<string, unknown>>;

/** The host surface: WASI group → its interfaces for one process. */
const GROUPS: Record<string, (ctx: HostContext) => Group> = {
  "wasi:io": ioImports,
  "wasi:clocks": clocksImports,
  "wasi:cli": cliImports,
  "wasi:random": randomImports,
  "wasi:filesystem": filesystemImports,
  "wasi:http": httpImports,
};

const unversioned = (s: string) => s.replace(/@[^/#]*$/, "");

/** Imports for `requested` interface names (as jco lists them), granted groups only. */
export function createP2Imports(io: ProcessIO, requested: readonly string[]): Record<string, unknown> {
  const granted = new Set<string>(io.entry.imports);
  const ctx = new HostContext(io);
  const built = new Map<string, Group>();
  const imports: Record<string, unknown> = {};
  for (const name of requested) {
    const group = interfaceGroup(name);
    const make = group && granted.has(group) ? GROUPS[group] : undefined;
    if (!group || !make) continue; // the loader refused ungranted imports already
    let ifaces = built.get(group);
    if (!ifaces) built.set(group, (ifaces = make(ctx)));
    const impl = ifaces[unversioned(name)];
    if (impl) {
      // jco looks imports up unversioned; the versioned key serves other bindings.
      imports[name] = impl;
      imports[unversioned(name)] = impl;
    }
  }
  return imports;
}
