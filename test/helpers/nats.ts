// A real nats-server for the cluster tests, on 127.0.0.1 and a free port (no traffic
// leaves the machine), and nodes as separate Node processes (test/helpers/cluster-node.ts).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, connect } from "node:net";
import { fileURLToPath } from "node:url";

/** Fails (never skips) when the server is missing: the cluster tests need a real one. */
export function requireNatsServer(): string {
  const found = spawnSync("nats-server", ["--version"], { encoding: "utf8" });
  if (found.error || found.status !== 0) {
    throw new Error("the cluster tests need a real NATS server: nats-server is not on PATH (apt-get install nats-server; .ci/run installs it)");
  }
  return found.stdout.trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function accepting(port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nats-server did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface NatsServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>;
}

export async function startNats(opts: { token?: string } = {}): Promise<NatsServer> {
  requireNatsServer();
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), ...(opts.token ? ["--auth", opts.token] : [])], { stdio: "ignore" });
    await accepting(port);
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  };
  await start();
  return { url: `nats://127.0.0.1:${port}`, port, stop, start };
}

const NODE_MAIN = fileURLToPath(new URL("./cluster-node.ts", import.meta.url));

export interface NodeProcess {
  name: string;
  proc: ChildProcess;
  /** Kills its OS process (SIGKILL): no goodbye, the others must notice. */
  kill(): Promise<void>;
  /** Ends it cleanly (SIGTERM: its runtime closes). */
  stop(): Promise<void>;
}

/** A node in its own Node process, serving `serve` of the project at `root`. */
export async function startNode(cfg: { root: string; nats: string; node: string; serve?: string[]; auth?: { token: string }; heartbeat?: number; downAfter?: number; cacheDir?: string }): Promise<NodeProcess> {
  const proc = spawn(process.execPath, [NODE_MAIN, JSON.stringify(cfg)], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`node ${cfg.node} exited with ${code} before it was ready: ${err}`)));
  });
  const ended = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return {
    name: cfg.node,
    proc,
    kill: async () => {
      proc.kill("SIGKILL");
      await ended;
    },
    stop: async () => {
      proc.kill("SIGTERM");
      await ended;
    },
  };
}
