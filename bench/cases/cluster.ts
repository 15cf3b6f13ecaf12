// Nodes over NATS (--only cluster): this process is node a; node b is a Node process of
// its own (test/helpers/nats.ts startNode), as a node of a real cluster would be, on a
// nats-server the bench starts on 127.0.0.1. Each figure stands next to a baseline
// measured in turn with it: remote round trips against a bare NATS request/reply (its
// responder also in a Node process of its own, so the hops are the same), remote
// spawn → EXIT and pipelined sends against the same on this node.

import { spawn } from "node:child_process";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Runtime } from "../../src/index.ts";
import { exitOf, HOST, PROBE_BINARIES, PROBE_YAML, upTo } from "../../test/helpers/guests.ts";
import { startNats, startNode, type NatsServer, type NodeProcess } from "../../test/helpers/nats.ts";
import { until } from "../../test/helpers/supervision.ts";
import { benchProject, inTurn, openAt, REPO, stats, type Row } from "../lib.ts";

const REMOTE = `b@${HOST}`;
/** Sequential round trips per sample. */
const TRIPS = Number(process.env.BENCH_CLUSTER_TRIPS ?? 2000);
/** Sequential spawn → EXIT per sample. */
const SPAWNS = Number(process.env.BENCH_CLUSTER_SPAWNS ?? 500);
/** Pipelined sends per sample (at most a mailbox's 10 000: the collector may not have started yet). */
const MESSAGES = Number(process.env.BENCH_CLUSTER_MESSAGES ?? 10_000);
/** A remote send against a bare NATS request/reply. */
const GOAL = 1.5;
/** Slow enough that a loaded machine never sees a node go down mid-run. */
const LIVENESS = { heartbeat: 1000, downAfter: 10_000 };
const SUBJECT = "bench.bare";
const PAYLOAD = new Uint8Array([1, 2, 3, 4]);

// The floor: a subscriber that answers each request with its data, in a Node process of its own.
const RESPONDER = `import { connect } from "@nats-io/transport-node";
const nc = await connect({ servers: process.argv[1] });
nc.subscribe("${SUBJECT}", { callback: (err, msg) => { if (!err) msg.respond(msg.data); } });
await nc.flush();
process.stdout.write("ready\\n");`;

async function startResponder(url: string): Promise<() => Promise<void>> {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", RESPONDER, url], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    proc.once("exit", (code) => reject(new Error(`bench cluster: the bare NATS responder exited with ${code}: ${err}`)));
  });
  const ended = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return async () => {
    proc.kill("SIGTERM");
    await ended;
  };
}

const perTrip = (t: number, n: number) => ((performance.now() - t) * 1000) / n;

/** µs per bare request/reply, one at a time. */
const bareTrips = (nc: NatsConnection) => async () => {
  const t = performance.now();
  for (let i = 0; i < TRIPS; i++) await nc.request(SUBJECT, PAYLOAD, { timeout: 10_000 });
  return perTrip(t, TRIPS);
};

/** Bare requests per second, MESSAGES in flight at once. */
const barePipelined = (nc: NatsConnection) => async () => {
  const t = performance.now();
  await Promise.all(upTo(MESSAGES).map(() => nc.request(SUBJECT, PAYLOAD, { timeout: 30_000 })));
  return MESSAGES / ((performance.now() - t) / 1000);
};

/** µs per round trip: a TypeScript process sends to the echo service on b and waits for its echo. */
const echoTrips = (rt: Runtime) => async () => {
  const me = rt.newProcess();
  try {
    const serve = await rt.process.spawnMonitored("probe:echo", REMOTE);
    const t = performance.now();
    for (let i = 0; i < TRIPS; i++) {
      if (!(await me.send(serve, "ping", PAYLOAD))) throw new Error("bench cluster: the echo service is gone");
      const ev = await me.receive();
      if (ev?.type !== "MESSAGE" || ev.topic !== "echo") throw new Error(`echo service: ${JSON.stringify(ev)}`);
    }
    const us = perTrip(t, TRIPS);
    await rt.process.cancel(serve, "done");
    await exitOf(rt.process, serve);
    return us;
  } finally {
    me.close();
  }
};

/** µs per send to a collector on b, each awaited until b's table has it (one NATS request/reply, nothing back). */
const ackedSends = (rt: Runtime) => async () => {
  const me = rt.newProcess();
  try {
    const collector = await rt.process.spawnMonitored("probe:collect", REMOTE, TRIPS);
    const t = performance.now();
    for (let i = 0; i < TRIPS; i++) if (!(await me.send(collector, "n", i))) throw new Error("bench cluster: the collector is gone");
    const us = perTrip(t, TRIPS);
    expectValue(await exitOf(rt.process, collector), "collector", TRIPS);
    return us;
  } finally {
    me.close();
  }
};

/** µs per process over SPAWNS sequential spawn → EXIT of compute(6, 7) on `host`. */
const spawns = (rt: Runtime, host: string) => async () => {
  const t = performance.now();
  for (let i = 0; i < SPAWNS; i++) {
    await rt.process.spawnMonitored("probe:compute", host, 6, 7);
    const ev = await rt.process.receive(); // no timeout: a timer per receive would be the harness's cost
    if (ev?.type !== "EXIT" || !("value" in ev) || ev.value !== 42) throw new Error(`compute on ${host}: ${JSON.stringify(ev)}`);
  }
  return perTrip(t, SPAWNS);
};

/** Messages per second: MESSAGES sends at once to a collector on `host`, until its EXIT and every ack. */
const pipelined = (rt: Runtime, host: string) => async () => {
  const me = rt.newProcess();
  try {
    const collector = await rt.process.spawnMonitored("probe:collect", host, MESSAGES);
    const t = performance.now();
    const acks = upTo(MESSAGES).map((i) => me.send(collector, "n", i));
    const exit = await exitOf(rt.process, collector, 60_000);
    const sent = await Promise.all(acks);
    const rate = MESSAGES / ((performance.now() - t) / 1000);
    expectValue(exit, `collector on ${host}`, MESSAGES);
    if (!sent.every((s) => s)) throw new Error(`bench cluster: ${sent.filter((s) => !s).length} sends to ${host} were refused`);
    return rate;
  } finally {
    me.close();
  }
};

function expectValue(exit: unknown, what: string, value: unknown): void {
  if ((exit as { value?: unknown }).value !== value) throw new Error(`bench cluster: ${what} ended with ${JSON.stringify(exit)}`);
}

async function serverOrExplain(): Promise<NatsServer> {
  try {
    return await startNats();
  } catch (err) {
    throw new Error(`bench cluster needs nats-server on PATH (apt-get install nats-server): ${(err as Error).message}`);
  }
}

export async function clusterCases(runs: number): Promise<Row[]> {
  const nats = await serverOrExplain();
  const project = benchProject(PROBE_YAML, PROBE_BINARIES);
  let b: NodeProcess | undefined;
  let stopResponder: (() => Promise<void>) | undefined;
  let nc: NatsConnection | undefined;
  let rt: Runtime | undefined;
  try {
    b = await startNode({ root: project.root, nats: nats.url, node: "b", serve: ["probe:*"], cacheDir: `${project.cacheDir}-b`, ...LIVENESS });
    rt = await openAt(project, { cluster: { nats: nats.url, node: "a", ...LIVENESS } });
    const a = rt;
    await until(() => a.nodes().some((n) => n.name === "b" && n.state === "up"), 10_000, "node b up");
    stopResponder = await startResponder(nats.url);
    nc = await connect({ servers: nats.url });

    const [echo, acked, bare] = await inTurn(runs, [echoTrips(a), ackedSends(a), bareTrips(nc)]);
    const [remoteSpawn, localSpawn] = await inTurn(runs, [spawns(a, REMOTE), spawns(a, HOST)]);
    const [remoteRate, localRate, bareRate] = await inTurn(runs, [pipelined(a, REMOTE), pipelined(a, HOST), barePipelined(nc)]);

    const ackRatio = stats(acked!).median / stats(bare!).median;
    const echoRatio = stats(echo!).median / stats(bare!).median;
    const where = "node a in the bench's process, node b and the bare responder each in a Node process of their own, one nats-server on 127.0.0.1";
    return [
      {
        name: `remote send ack, TypeScript on node a → collector guest on node b (${TRIPS.toLocaleString("en")}, one at a time)`,
        unit: "µs/send",
        value: stats(acked!),
        baselineName: "bare NATS request/reply (nc.request, a responder in another process)",
        baseline: stats(bare!),
        note: `one send = one NATS request/reply, like for like: ${ackRatio <= GOAL ? "meets" : "misses"} the goal of ≤ ${GOAL}× the bare round trip (${ackRatio.toFixed(2)}×); ${where}`,
      },
      {
        name: `remote echo round trip, TypeScript on node a ↔ echo guest on node b (${TRIPS.toLocaleString("en")}, one at a time)`,
        unit: "µs/round trip",
        value: stats(echo!),
        baselineName: "bare NATS request/reply (nc.request, a responder in another process)",
        baseline: stats(bare!),
        note: `two acked one-way sends (a → b, then the guest's echo b → a), so about two bare round trips is its floor: ${(echoRatio / 2).toFixed(2)}× per message; the goal of ≤ ${GOAL}× applies to the row above`,
      },
      {
        name: `spawn → EXIT on node b from node a, core module (\`compute\` 6, 7), one at a time`,
        unit: "µs/process",
        value: stats(remoteSpawn!),
        baselineName: "the same on node a",
        baseline: stats(localSpawn!),
      },
      {
        name: `${MESSAGES.toLocaleString("en")} sends at once, TypeScript on node a → collector guest on node b, until its EXIT and every ack`,
        unit: "msg/s",
        value: stats(remoteRate!),
        baselineName: "the collector on node a",
        baseline: stats(localRate!),
        higherIsBetter: true,
      },
      {
        name: `${MESSAGES.toLocaleString("en")} sends at once, TypeScript on node a → collector guest on node b, until its EXIT and every ack`,
        unit: "msg/s",
        value: stats(remoteRate!),
        baselineName: `bare NATS requests, ${MESSAGES.toLocaleString("en")} in flight`,
        baseline: stats(bareRate!),
        higherIsBetter: true,
      },
    ];
  } finally {
    await nc?.close();
    await rt?.close(1000);
    await b?.stop();
    await stopResponder?.();
    await nats.stop();
  }
}
