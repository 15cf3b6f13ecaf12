// `Runtime.open({ cluster })` (section 9): checked once, with one message per
// problem naming the option, as the YAML's checks do.

import { parseDuration } from "../registry/units.ts";

export interface ClusterAuth {
  token?: string;
  user?: string;
  pass?: string;
  /** A NATS credentials file (JWT and seed). */
  creds?: string;
}

export interface ClusterOptions {
  /** The NATS server(s): "nats://host:4222" or several. */
  nats: string | string[];
  /** This node's name; pids of its processes name it. */
  node: string;
  auth?: ClusterAuth;
  /** Given to the NATS client as it is. */
  tls?: Record<string, unknown>;
  /** Entries other nodes may spawn here: IDs or `ns:*` (default none). */
  serve?: string[];
  /** Milliseconds or a duration string (default 1 s). */
  heartbeat?: number | string;
  /** Down after this long without a heartbeat (default 3 s). */
  downAfter?: number | string;
}

export interface ClusterConfig {
  servers: string[];
  node: string;
  auth: ClusterAuth | undefined;
  tls: Record<string, unknown> | undefined;
  serve: string[];
  heartbeatMs: number;
  downAfterMs: number;
}

const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function duration(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const d = parseDuration(value);
  if (!d.ok) throw new TypeError(`cluster.${what} ${d.message}`);
  if (d.value <= 0) throw new RangeError(`cluster.${what} must be longer than 0 (got ${JSON.stringify(value)})`);
  return d.value;
}

export function checkCluster(opts: ClusterOptions): ClusterConfig {
  if (typeof opts !== "object" || opts === null) throw new TypeError("cluster must be an object: { nats, node, auth?, tls?, serve?, heartbeat?, downAfter? }");
  const servers = Array.isArray(opts.nats) ? opts.nats : [opts.nats];
  if (servers.length === 0 || servers.some((s) => typeof s !== "string" || s === "")) {
    throw new TypeError(`cluster.nats must be the URL of a NATS server, e.g. "nats://127.0.0.1:4222" (got ${JSON.stringify(opts.nats)})`);
  }
  if (typeof opts.node !== "string" || !NODE_NAME.test(opts.node)) {
    throw new TypeError(`cluster.node must be a name of letters, digits, "_" and "-" (got ${JSON.stringify(opts.node)})`);
  }
  const auth = opts.auth;
  if (auth !== undefined) {
    const ways = [auth.token !== undefined, auth.user !== undefined || auth.pass !== undefined, auth.creds !== undefined].filter(Boolean).length;
    if (ways !== 1) throw new TypeError("cluster.auth must be one of { token }, { user, pass } or { creds: <file> }");
  }
  const serve = opts.serve ?? [];
  if (!Array.isArray(serve) || serve.some((s) => typeof s !== "string" || !/^[^:\s]+:(\*|[^:\s]+)$/.test(s))) {
    throw new TypeError(`cluster.serve must list entry IDs or "ns:*" patterns (got ${JSON.stringify(opts.serve)})`);
  }
  const heartbeatMs = duration(opts.heartbeat, "heartbeat", 1000);
  const downAfterMs = duration(opts.downAfter, "downAfter", 3000);
  if (downAfterMs <= heartbeatMs) throw new RangeError(`cluster.downAfter (${downAfterMs} ms) must be longer than cluster.heartbeat (${heartbeatMs} ms)`);
  return { servers, node: opts.node, auth, tls: opts.tls, serve, heartbeatMs, downAfterMs };
}
