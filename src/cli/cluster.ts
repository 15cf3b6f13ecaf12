// `wippy run --cluster URL --node NAME [--serve …]` (SPEC section 9): the flags become
// Runtime.open's `cluster`, checked against the registry first so a typo in --serve is
// one line now rather than a refused spawn on another machine later.

import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import type { ClusterOptions } from "../cluster/options.ts";
import type { Registry } from "../registry/index.ts";
import { SPAWNABLE_KINDS, wildcardNamespace } from "../registry/spawn-rights.ts";
import { runtimeInternals, type Runtime } from "../runtime.ts";
import type { CliCluster } from "./args.ts";
import { CliError } from "./main.ts";

const spawnable = (kind: string) => (SPAWNABLE_KINDS as readonly string[]).includes(kind);

export function clusterOptions(c: CliCluster, registry: Registry): ClusterOptions {
  for (const item of c.serve) {
    const ns = wildcardNamespace(item);
    if (ns !== undefined) {
      const any = [...registry.entries.values()].some((e) => spawnable(e.kind) && e.id.lastIndexOf(":") === ns.length && e.id.startsWith(ns));
      if (!any) throw new CliError(`--serve ${item}: the registry has no process entry in namespace ${ns}; see wippy registry list`);
      continue;
    }
    const e = registry.entries.get(item);
    if (!e) throw new CliError(`--serve ${item}: no entry ${item} in the registry; see wippy registry list --kind process.wasm`);
    if (!spawnable(e.kind)) throw new CliError(`--serve ${item}: it is a ${e.kind}; other nodes can spawn only ${SPAWNABLE_KINDS.join(", ")} entries`);
  }
  let auth: ClusterOptions["auth"];
  if (c.token !== undefined) auth = { token: c.token };
  if (c.creds !== undefined) {
    const path = resolve(c.creds);
    try {
      accessSync(path, constants.R_OK);
    } catch {
      throw new CliError(`--nats-creds ${c.creds}: cannot read ${path}; give the path of a NATS credentials file (nsc generate creds)`);
    }
    auth = { creds: path };
  }
  return { nats: c.nats, node: c.node, serve: c.serve, ...(auth ? { auth } : {}) };
}

/** What joining said, for the log: where, as whom, serving what. */
export function joinedLine(c: CliCluster): string {
  const serves = c.serve.length > 0 ? `serves ${c.serve.join(", ")}` : "serves nothing (remote spawns are refused; --serve ID,… opens entries)";
  return `node ${c.node} joined the cluster at ${c.nats.join(", ")}; ${serves}`;
}

/** One log line whenever another node comes up or goes down, and why; returns the stop function. */
export function watchNodes(runtime: Runtime, log: (line: string) => void): () => void {
  return runtimeInternals(runtime).cluster?.onChange((_node, why) => log(why)) ?? (() => {});
}
