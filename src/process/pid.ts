// Pids: one format for every kind of process, `{<host id>|<id>}` (SPEC section 3).

import { customAlphabet } from "nanoid";

const nanoid = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 12);

/** A fresh pid on `host`; in a cluster it names its node: `{<node>@<host id>|<id>}` (section 9). */
export function newPid(host: string, node?: string): string {
  return node === undefined ? `{${host}|${nanoid()}}` : `{${node}@${host}|${nanoid()}}`;
}

/** The node a pid names, or undefined for a pid of a runtime outside any cluster. */
export function nodeOf(pid: string): string | undefined {
  const at = pid.indexOf("@");
  const bar = pid.indexOf("|");
  return pid.startsWith("{") && at > 1 && (bar < 0 || at < bar) ? pid.slice(1, at) : undefined;
}

/** A host as a spawn names it: `<node>@<host id>` on a node of a cluster, else a plain host id (node undefined). */
export function splitHost(host: string): { node: string | undefined; host: string } {
  const at = host.indexOf("@");
  return at > 0 ? { node: host.slice(0, at), host: host.slice(at + 1) } : { node: undefined, host };
}
