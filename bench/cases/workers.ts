// Worker threads (a host with `workers`): each figure on a host with `workers: 2`
// against the same on a main-thread host (`workers: 0`), in the same runtime, round
// after round in turn: CPU-bound throughput (32 sieves at once), spawn → EXIT
// latency, guest ↔ guest ping-pong across threads (also against a bare MessagePort
// relay over the same hops), and TypeScript ↔ guest echo.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { MessageChannel, Worker } from "node:worker_threads";
import type { Runtime } from "../../src/index.ts";
import { inTurn, openProject, REPO, sample, stats, type Row } from "../lib.ts";

const WORKERS = 2;
const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: main, kind: process.host, host: { workers: 0 } }
  - { name: pool, kind: process.host, host: { workers: ${WORKERS} } }
  - { name: sieve, kind: process.wasm, fs: bin, path: /cpu.wasm, hash: "{{hash:wasm/cpu.wasm}}", method: sieve }
  - { name: compute, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: compute }
  - { name: echo, kind: process.wasm, fs: bin, path: /echo.wasm, hash: "{{hash:wasm/echo.wasm}}", method: echo, imports: [wippy:process] }
  - { name: pinger, kind: process.wasm, fs: bin, path: /echo.wasm, hash: "{{hash:wasm/echo.wasm}}", method: pinger, imports: [wippy:process] }
  - { name: serve, kind: process.wasm, fs: bin, path: /echo_service.wasm, hash: "{{hash:wasm/echo_service.wasm}}", method: serve, imports: [wippy:process] }
`;
const BINARIES = {
  "wasm/cpu.wasm": "c/cpu.core.wasm",
  "wasm/compute.wasm": "core/compute.wasm",
  "wasm/echo.wasm": "core/process-echo.wasm",
  "wasm/echo_service.wasm": "c/echo_service.core.wasm",
};
const MAIN = "b:main";
const POOL = "b:pool";

/** Sieves at once; each counts the primes below SIEVE_N (~100 ms as a process on the main thread). */
const SIEVES = 32;
const SIEVE_N = 15_000_000;
const SIEVE_PRIMES = 970_704;
/** Sequential spawn → EXIT per sample. */
const SPAWNS = 2000;
const ROUNDS = Number(process.env.BENCH_WORKER_ROUNDS ?? 20_000);
const ECHOES = Number(process.env.BENCH_WORKER_ECHOES ?? 10_000);
const SPEEDUP_GOAL = 1.8;

type Measure = (host: string) => Promise<number>;

/** `measure` on the pool host and on the main host in turn, one warm-up each, then `runs` rounds. */
async function paired(runs: number, measure: Measure): Promise<{ pool: number[]; main: number[] }> {
  const [pool, main] = await inTurn(runs, [() => measure(POOL), () => measure(MAIN)]);
  return { pool: pool!, main: main! };
}

function expectExit(ev: unknown, what: string, value?: unknown): void {
  const e = ev as { type?: string; value?: unknown } | null;
  if (e?.type !== "EXIT" || !("value" in e) || (value !== undefined && e.value !== value)) throw new Error(`${what} failed: ${JSON.stringify(ev)}`);
}

function threadOf(rt: Runtime, pid: string): number {
  const t = rt.processes().find((p) => p.pid === pid)?.thread;
  if (t === undefined) throw new Error(`bench workers: ${pid} is not running`);
  return t;
}

/**
 * Wall time (ms) of SIEVES sieves spawned at once until the last EXIT; `cores` gets the
 * cores it had (CPU time of all threads over wall time): on a shared machine, fewer than asked.
 */
const sieves = (rt: Runtime, cores: number[]): Measure => async (host) => {
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < SIEVES; i++) await rt.process.spawnMonitored("b:sieve", host, SIEVE_N);
  for (let i = 0; i < SIEVES; i++) expectExit(await rt.process.receive(), "sieve", SIEVE_PRIMES);
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  if (host === POOL) cores.push((used.user + used.system) / 1000 / ms);
  return ms;
};

/** µs per process over SPAWNS sequential spawn → EXIT. */
const spawns = (rt: Runtime): Measure => async (host) => {
  const t = performance.now();
  for (let i = 0; i < SPAWNS; i++) {
    await rt.process.spawnMonitored("b:compute", host, 6, 7);
    expectExit(await rt.process.receive(), "compute", 42); // no timeout: a timer per receive would be the harness's cost
  }
  return ((performance.now() - t) * 1000) / SPAWNS;
};

/** Messages per second between echo and pinger; on the pool host they must be on different workers. */
const pingPong = (rt: Runtime): Measure => async (host) => {
  const p = rt.process;
  const echo = await p.spawnMonitored("b:echo", host, ROUNDS);
  const pinger = await p.spawnMonitored("b:pinger", host, ROUNDS);
  const [a, b] = [threadOf(rt, echo), threadOf(rt, pinger)];
  if (host === POOL ? a === 0 || b === 0 || a === b : a !== 0 || b !== 0) {
    throw new Error(`bench workers: ping-pong on ${host} placed echo on thread ${a} and pinger on thread ${b}`);
  }
  const t = performance.now();
  await p.send(pinger, "target", new TextEncoder().encode(echo));
  expectExit(await p.receive({ match: (e) => e.type === "EXIT" && e.from === pinger }), "pinger", ROUNDS);
  const ms = performance.now() - t;
  expectExit(await p.receive({ match: (e) => e.type === "EXIT" && e.from === echo }), "echo", ROUNDS);
  return (2 * ROUNDS) / (ms / 1000);
};

/** Round trips per second from TypeScript (main thread) to the echo service and back. */
const tsEcho = (rt: Runtime): Measure => async (host) => {
  const p = rt.process;
  const me = rt.newProcess();
  try {
    const serve = await p.spawnMonitored("b:serve", host);
    if ((threadOf(rt, serve) === 0) !== (host === MAIN)) throw new Error(`bench workers: echo service on ${host} is on thread ${threadOf(rt, serve)}`);
    const payload = new Uint8Array([1, 2, 3, 4]);
    const t = performance.now();
    for (let i = 0; i < ECHOES; i++) {
      await me.send(serve, "ping", payload);
      const ev = await me.receive();
      if (ev?.type !== "MESSAGE" || ev.topic !== "echo") throw new Error(`echo service: ${JSON.stringify(ev)}`);
    }
    const ms = performance.now() - t;
    await p.cancel(serve, "done");
    expectExit(await p.receive({ match: (e) => e.type === "EXIT" && e.from === serve }), "echo service");
    return ECHOES / (ms / 1000);
  } finally {
    me.close();
  }
};

// The floor of a message between workers: W1 → main → W2 → main → W1, each hop one
// postMessage of a one-message batch and nothing else (a round trip of the ping-pong
// crosses the same four hops).
const RELAY = `const { parentPort } = require("node:worker_threads");
parentPort.on("message", (batch) => parentPort.postMessage(batch));`;

/** Messages per second (two per round trip, as the ping-pong counts them) over a bare MessagePort relay, `runs` samples. */
async function relay(runs: number): Promise<number[]> {
  const [w1, w2] = [new Worker(RELAY, { eval: true }), new Worker(RELAY, { eval: true })];
  await Promise.all([w1, w2].map((w) => new Promise((r) => w.once("online", r))));
  let left = 0;
  let done = (): void => {};
  w1.on("message", (m) => (--left > 0 ? w2.postMessage(m) : done()));
  w2.on("message", (m) => w1.postMessage(m));
  try {
    return await sample(runs, async () => {
      left = ROUNDS;
      const finished = new Promise<void>((r) => (done = r));
      const t = performance.now();
      w2.postMessage([{ t: "deliver", pid: "x", event: { type: "MESSAGE", topic: "ping" } }]);
      await finished;
      return (2 * ROUNDS) / ((performance.now() - t) / 1000);
    });
  } finally {
    await Promise.all([w1.terminate(), w2.terminate()]);
  }
}

// The machine's own ceiling for the sieve row: the same sieves as bare instances (no
// process, no instrumentation), SIEVES/WORKERS in each of WORKERS plain Worker threads
// against all of them one after another on one thread. Memory-bound work on a shared
// VM rarely reaches WORKERS×; the runtime's speedup is read against this one.
const BARE_SIEVES = `const { parentPort } = require("node:worker_threads");
parentPort.on("message", ({ module, n, count }) => {
  for (let i = 0; i < count; i++) {
    const instance = new WebAssembly.Instance(module);
    instance.exports._initialize();
    instance.exports.sieve(n);
  }
  parentPort.postMessage("done");
});`;

/** ms for SIEVES bare sieves: spread over WORKERS plain workers, and on one thread; `runs` samples each, in turn. */
async function bareSieves(runs: number): Promise<{ parallel: number[]; serial: number[] }> {
  const module = new WebAssembly.Module(readFileSync(join(REPO, "fixtures/c/cpu.core.wasm")));
  const workers = Array.from({ length: WORKERS }, () => new Worker(BARE_SIEVES, { eval: true }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once("online", r))));
  const parallel = async () => {
    const t = performance.now();
    await Promise.all(workers.map((w) => new Promise((r) => {
      w.once("message", r);
      w.postMessage({ module, n: SIEVE_N, count: SIEVES / WORKERS });
    })));
    return performance.now() - t;
  };
  const serial = () => {
    const t = performance.now();
    for (let i = 0; i < SIEVES; i++) {
      const instance = new WebAssembly.Instance(module);
      (instance.exports._initialize as () => void)();
      if ((instance.exports.sieve as (n: number) => number)(SIEVE_N) !== SIEVE_PRIMES) throw new Error("bare sieve: wrong count");
    }
    return performance.now() - t;
  };
  try {
    await parallel();
    serial();
    const out = { parallel: [] as number[], serial: [] as number[] };
    for (let i = 0; i < runs; i++) {
      out.parallel.push(await parallel());
      out.serial.push(serial());
    }
    return out;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

// Which transport between two threads pays: a MessagePort (what the runtime uses)
// against a SharedArrayBuffer with Atomics.waitAsync, one i32 each way. Both sides
// wait without blocking their thread (a worker runs many processes: Atomics.wait,
// which blocks, is not an option).
const PORT_PINGER = `const { parentPort, workerData } = require("node:worker_threads");
const { port, rounds } = workerData;
parentPort.on("message", () => {
  let left = rounds;
  port.on("message", (v) => (--left > 0 ? port.postMessage(v + 1) : parentPort.postMessage(v)));
  port.postMessage(0);
});
parentPort.postMessage("ready");`;
const PORT_ECHO = `const { workerData } = require("node:worker_threads");
workerData.port.on("message", (v) => workerData.port.postMessage(v + 1));`;
// slot 0: whose turn (0 pinger, 1 echo); slot 1: the value
const SAB_SIDE = `const { parentPort, workerData } = require("node:worker_threads");
const { sab, me, rounds } = workerData;
const a = new Int32Array(sab);
const other = 1 - me;
const alive = setInterval(() => {}, 1 << 30); // a pending waitAsync does not keep a thread alive
(async () => {
  if (me === 0) await new Promise((r) => parentPort.once("message", r));
  for (let i = 0; i < rounds; i++) {
    if (me === 0) { a[1]++; Atomics.store(a, 0, other); Atomics.notify(a, 0); }
    while (Atomics.load(a, 0) !== me) await Atomics.waitAsync(a, 0, other).value;
    if (me === 1) { a[1]++; Atomics.store(a, 0, other); Atomics.notify(a, 0); }
  }
  parentPort.postMessage(a[1]);
  clearInterval(alive);
})();
if (me === 0) parentPort.postMessage("ready");`;

/** Messages per second between two plain workers, `runs` samples each of a MessagePort and a SharedArrayBuffer, in turn. */
async function transports(runs: number): Promise<{ port: number[]; sab: number[] }> {
  const once = async (kind: "port" | "sab"): Promise<number> => {
    let workers: Worker[];
    if (kind === "port") {
      const { port1, port2 } = new MessageChannel();
      workers = [
        new Worker(PORT_PINGER, { eval: true, workerData: { port: port1, rounds: ROUNDS }, transferList: [port1] }),
        new Worker(PORT_ECHO, { eval: true, workerData: { port: port2 }, transferList: [port2] }),
      ];
    } else {
      const sab = new SharedArrayBuffer(8);
      workers = [0, 1].map((me) => new Worker(SAB_SIDE, { eval: true, workerData: { sab, me, rounds: ROUNDS } }));
    }
    try {
      await new Promise((r) => workers[0]!.once("message", r)); // ready
      const t = performance.now();
      const done = new Promise((r) => workers[0]!.once("message", r));
      workers[0]!.postMessage("go");
      await done;
      return (2 * ROUNDS) / ((performance.now() - t) / 1000);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  };
  const out = { port: [] as number[], sab: [] as number[] };
  for (let i = 0; i < runs; i++) {
    out.port.push(await once("port"));
    out.sab.push(await once("sab"));
  }
  return out;
}

export async function workerCases(runs: number): Promise<Row[]> {
  // a host that names workers starts them when the runtime opens: timed once, kept out of every row
  const t = performance.now();
  const rt = await openProject(YAML, BINARIES);
  const startup = performance.now() - t;
  try {
    await rt.process.spawnMonitored("b:compute", POOL, 6, 7);
    expectExit(await rt.process.receive(), "warm-up", 42);

    const cores: number[] = [];
    const cpu = await paired(runs, sieves(rt, cores));
    const speedup = stats(cpu.main).median / stats(cpu.pool).median;
    const goal = availableParallelism() >= WORKERS
      ? `${speedup >= SPEEDUP_GOAL ? "meets" : "misses"} the goal of ≥ ${SPEEDUP_GOAL}× on ${WORKERS} cores`
      : `only ${availableParallelism()} core(s): the goal of ≥ ${SPEEDUP_GOAL}× does not apply`;
    const got = cores.slice(-runs).map((c) => c.toFixed(2)).join(", ");
    const bare = await bareSieves(runs);
    const ceiling = stats(bare.serial).median / stats(bare.parallel).median;
    const spawn = await paired(runs, spawns(rt));
    const pp = await paired(runs, pingPong(rt));
    const floor = await relay(runs);
    const echo = await paired(runs, tsEcho(rt));
    const lines = await transports(runs);
    return [
      {
        name: `${SIEVES} sieve(1.5·10⁷) processes at once, \`workers: ${WORKERS}\``,
        unit: `ms for ${SIEVES}`,
        value: stats(cpu.pool),
        baselineName: "the same on the main thread",
        baseline: stats(cpu.main),
        rateRatio: true,
        note: `${speedup.toFixed(2)}× the main thread's throughput: ${goal}; cores the runs on workers had (CPU time over wall): ${got}; opening the runtime, its ${WORKERS} workers started, took ${startup.toFixed(0)} ms, kept out of the rows`,
      },
      {
        name: `${SIEVES} bare sieve instances, ${SIEVES / WORKERS} in each of ${WORKERS} plain Worker threads (the machine's ceiling)`,
        unit: `ms for ${SIEVES}`,
        value: stats(bare.parallel),
        baselineName: "the same one after another on one thread",
        baseline: stats(bare.serial),
        rateRatio: true,
        note: `${ceiling.toFixed(2)}× on this machine; the runtime's ${speedup.toFixed(2)}× is ${((speedup / ceiling) * 100).toFixed(0)} % of it`,
      },
      { name: `spawn → EXIT on a worker, core module (\`compute\` 6, 7), one at a time`, unit: "µs/process", value: stats(spawn.pool), baselineName: "the same on the main thread", baseline: stats(spawn.main) },
      {
        name: `ping-pong between two WASM guests on two workers (${ROUNDS.toLocaleString("en")} round trips)`,
        unit: "msg/s",
        value: stats(pp.pool),
        baselineName: "both guests on the main thread",
        baseline: stats(pp.main),
        higherIsBetter: true,
      },
      {
        name: `ping-pong between two WASM guests on two workers (${ROUNDS.toLocaleString("en")} round trips)`,
        unit: "msg/s",
        value: stats(pp.pool),
        baselineName: "bare MessagePort relay, worker → main → worker (the same hops)",
        baseline: stats(floor),
        higherIsBetter: true,
      },
      {
        name: `ping-pong between two plain workers over a SharedArrayBuffer (Atomics.waitAsync), ${ROUNDS.toLocaleString("en")} round trips`,
        unit: "msg/s",
        value: stats(lines.sab),
        baselineName: "the same over a MessagePort between them (what the runtime uses)",
        baseline: stats(lines.port),
        higherIsBetter: true,
        note: "what a SharedArrayBuffer line between workers would gain at most, before any framing of events",
      },
      {
        name: `TypeScript ↔ guest on a worker, echo round trips (${ECHOES.toLocaleString("en")})`,
        unit: "round trips/s",
        value: stats(echo.pool),
        baselineName: "the guest on the main thread",
        baseline: stats(echo.main),
        higherIsBetter: true,
      },
    ];
  } finally {
    await rt.close();
  }
}
