// Command-line parsing: global options first, then a command and its words.

export interface CliArgs {
  src?: string;
  root?: string;
  help: boolean;
  /** --inspect [PORT]: 0 when given without a port. */
  inspect?: number;
  /** --observe [PORT]: 0 when given without a port. */
  observe?: number;
  kind?: string;
  /** --host ID: the process.host of a command run (SPEC section 6). */
  host?: string;
  execute?: string;
  /** --cluster URL[,URL…] --node NAME …: join a cluster over NATS (SPEC section 9). */
  cluster?: CliCluster;
  words: string[];
}

export interface CliCluster {
  nats: string[];
  node: string;
  serve: string[];
  token?: string;
  creds?: string;
}

/** The cluster options as given, checked together once every word is read. */
interface ClusterFlags {
  cluster?: string;
  node?: string;
  serve?: string[];
  token?: string;
  creds?: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = { help: false, words: [] };
  const flags: ClusterFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // Once `run` has its target, every later word belongs to the guest.
    if (out.words[0] === "run" && out.words.length >= 2) {
      const rest = argv.slice(i);
      if (rest[0] === "--") rest.shift();
      out.words.push(...rest);
      break;
    }
    const take = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--help" || a === "-h") out.help = true;
    else if (a === "--src") out.src = take();
    else if (a.startsWith("--src=")) out.src = a.slice(6);
    else if (a === "--root") out.root = take();
    else if (a.startsWith("--root=")) out.root = a.slice(7);
    else if (a === "--host") out.host = take();
    else if (a.startsWith("--host=")) out.host = a.slice(7);
    else if (a === "--kind") out.kind = take();
    else if (a.startsWith("--kind=")) out.kind = a.slice(7);
    else if (a === "--cluster" || a.startsWith("--cluster=")) flags.cluster = a === "--cluster" ? take() : a.slice(10);
    else if (a === "--node" || a.startsWith("--node=")) flags.node = a === "--node" ? take() : a.slice(7);
    else if (a === "--serve" || a.startsWith("--serve=")) (flags.serve ??= []).push(a === "--serve" ? take() : a.slice(8));
    else if (a === "--nats-token" || a.startsWith("--nats-token=")) flags.token = a === "--nats-token" ? take() : a.slice(13);
    else if (a === "--nats-creds" || a.startsWith("--nats-creds=")) flags.creds = a === "--nats-creds" ? take() : a.slice(13);
    else if (a === "--inspect" || a === "--observe") {
      const next = argv[i + 1];
      const port = next !== undefined && /^\d+$/.test(next) ? Number(argv[++i]) : 0;
      if (port > 65535) throw new UsageError(`${a} ${port}: a port is 1–65535`);
      if (a === "--inspect") out.inspect = port;
      else out.observe = port;
    } else if (a === "-x" || a === "--execute") {
      out.execute = take();
      if (out.words.length === 0) out.words.push("run");
      out.words.push(out.execute);
    } else if (a.startsWith("-") && a !== "-") throw new UsageError(`unknown option ${a}; see wippy --help`);
    else out.words.push(a);
  }
  const cluster = clusterOf(flags);
  if (cluster && !out.help) {
    if (out.words[0] !== "run" || out.words[1] === "list") throw new UsageError(`--cluster is for wippy run (services or a command); wippy ${out.words.slice(0, 2).join(" ") || "without a command"} runs nothing`);
  }
  if (cluster) out.cluster = cluster;
  return out;
}

const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SERVE_ITEM = /^[^:\s]+:(\*|[^:\s]+)$/;
const EXAMPLE = "e.g. --cluster nats://127.0.0.1:4222 --node a";

/** --cluster and its companions, checked as a whole: each needs the others it goes with. */
function clusterOf(f: ClusterFlags): CliCluster | undefined {
  if (f.cluster === undefined) {
    if (f.node !== undefined) throw new UsageError(`--node ${f.node} names this runtime in a cluster; add --cluster URL (the NATS server), ${EXAMPLE}`);
    const orphan = f.serve !== undefined ? "--serve" : f.token !== undefined ? "--nats-token" : f.creds !== undefined ? "--nats-creds" : undefined;
    if (orphan) throw new UsageError(`${orphan} is for a node of a cluster; add --cluster URL --node NAME, ${EXAMPLE}`);
    return undefined;
  }
  const nats = f.cluster.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (nats.length === 0) throw new UsageError(`--cluster needs the URL of a NATS server, ${EXAMPLE}`);
  for (const url of nats) {
    if (!natsUrl(url)) throw new UsageError(`--cluster ${url}: not a NATS server URL; give nats://HOST:PORT (several separated by commas), e.g. nats://127.0.0.1:4222`);
  }
  if (f.node === undefined) throw new UsageError(`--cluster needs --node NAME: the name of this node in the cluster (letters, digits, "_" and "-"), ${EXAMPLE}`);
  if (!NODE_NAME.test(f.node)) throw new UsageError(`--node ${JSON.stringify(f.node)}: a node name is 1–64 letters, digits, "_" and "-"`);
  const serve = (f.serve ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  for (const item of serve) {
    if (!SERVE_ITEM.test(item)) throw new UsageError(`--serve ${item}: list entry IDs (ns:name) or ns:* separated by commas, e.g. --serve myns:compute_worker,tools:*`);
  }
  if (f.serve !== undefined && serve.length === 0) throw new UsageError("--serve needs entry IDs (ns:name) or ns:* separated by commas; leave it out to serve nothing");
  if (f.token !== undefined && f.creds !== undefined) throw new UsageError("--nats-token and --nats-creds are two ways to log in to NATS; give one of them");
  if (f.token === "") throw new UsageError("--nats-token needs the token the NATS server expects");
  if (f.creds === "") throw new UsageError("--nats-creds needs the path of a NATS credentials file");
  return { nats, node: f.node, serve, ...(f.token !== undefined ? { token: f.token } : {}), ...(f.creds !== undefined ? { creds: f.creds } : {}) };
}

/** nats://, tls://, ws:// or wss:// with a host, or a bare host:port as the NATS client takes it. */
function natsUrl(s: string): boolean {
  const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`;
  try {
    const u = new URL(withScheme);
    return ["nats:", "tls:", "ws:", "wss:"].includes(u.protocol) && u.hostname !== "" && (u.pathname === "" || u.pathname === "/");
  } catch {
    return false;
  }
}

export const HELP = `wippy — WebAssembly processes as supervised actors

Usage:
  wippy run list                      list the registry's commands
  wippy run <command> [args...]       run a command's process attached to the terminal
  wippy run -x <ns:entry> [args...]   run any process.wasm or process.lua entry the same way
  wippy run                           start auto_start services; stop with Ctrl-C
  wippy run --cluster URL --node NAME [--serve ID,...] [--nats-token T | --nats-creds FILE]
                                      the same as a node of a cluster over NATS
  wippy lint                          validate the registry, all errors at once
  wippy registry list [--kind K]      list entries
  wippy registry show <id>            show one entry

Options:
  --src DIR        folder of the YAML definition files (default: wippy.lock's
                   directories.src, else ./src if it exists, else .)
  --root DIR       project root (default: the folder holding wippy.lock, else .)
  --host ID        the process.host a command runs on (needed when the
                   registry has more than one)
  --inspect [PORT] report every process, supervisor and host actor to the
                   Stately inspector (a page on 127.0.0.1:PORT, default 8080)
  --observe [PORT] serve the live observer page on 127.0.0.1:PORT (default 9090):
                   supervision tree, process states, restarts, memory, exits

Cluster (wippy run, with or without a command; see README "Many machines"):
  --cluster URL    join a cluster of nodes over this NATS server, e.g.
                   nats://127.0.0.1:4222 (several separated by commas)
  --node NAME      this node's name (letters, digits, "_" and "-"); needed
                   with --cluster; pids of its processes name it
  --serve ID,...   entries other nodes may spawn here: entry IDs or ns:*
                   (default none: remote spawns are refused)
  --nats-token T   log in to NATS with a token, or
  --nats-creds F   with a credentials file (JWT and seed)

  -h, --help       this help
`;
