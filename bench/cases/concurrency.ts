// Many processes at once: 10 000 guests asleep in a WASI sleep together, against the
// same sleeper as bare JSPI instances (each side in its own Node process, for its RSS),
// and message throughput between two processes through the host mailbox (ping-pong).

import { alternating, openProject, RssPeak, sample, stats, type Measured, type Row } from "../lib.ts";
import { jspiSleepers } from "./jspi-floor.ts";

const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: _start, imports: [wasi:cli, wasi:clocks, wasi:io] }
`;

const SLEEPERS = 10_000;
const SLEEP_MS = 500;

/** 10 000 sleepers at once, wall over the sleep: here, and as bare instances (jspi-floor.ts). */
export const concurrencyChildren: Record<string, (runs: number) => Promise<Measured>> = {
  async sleepers(runs) {
    const rt = await openProject(YAML, { "wasm/sleeper.wasm": "c/sleeper.core.wasm" });
    try {
      await rt.process.exec("b:sleeper", "b:hosts", "1");
      const rss = new RssPeak();
      const samples = await sample(runs, async () => {
        const t = performance.now();
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < SLEEPERS; i++) pending.push(rt.process.exec("b:sleeper", "b:hosts", String(SLEEP_MS)));
        rss.mark();
        const results = await Promise.all(pending);
        if (!results.every((r) => (r as { value?: unknown }).value === 0)) throw new Error("a sleeper failed");
        return (performance.now() - t) / SLEEP_MS;
      }, 0);
      return { samples, rssMiB: rss.stop() };
    } finally {
      await rt.close();
    }
  },
  async "jspi-floor"(runs) {
    await jspiSleepers(10, 1);
    const rss = new RssPeak();
    const samples = await sample(runs, async () => {
      const t = performance.now();
      await jspiSleepers(SLEEPERS, SLEEP_MS, () => rss.mark());
      return (performance.now() - t) / SLEEP_MS;
    }, 0);
    return { samples, rssMiB: rss.stop() };
  },
};

export async function concurrencyCases(runs: number): Promise<Row[]> {
  const [ours, floor] = alternating(["sleepers", "jspi-floor"], runs);
  const sleepers = `${SLEEPERS.toLocaleString("en")}`;
  const rows: Row[] = [
    {
      name: `${sleepers} bare instances asleep at once (JSPI floor, WASI sleep ${SLEEP_MS} ms)`,
      unit: "wall / sleep",
      value: stats(floor!.samples),
      baselineName: "the sleep itself (1.00)",
      baseline: { median: 1, min: 1, max: 1 },
      rss: { value: floor!.rssMiB },
    },
    {
      name: `${sleepers} processes asleep at once (WASI sleep ${SLEEP_MS} ms)`,
      unit: "wall / sleep",
      value: stats(ours!.samples),
      baselineName: `the JSPI floor: ${sleepers} bare instances of the same sleeper, Suspending \`poll_oneoff\`, no runtime`,
      baseline: stats(floor!.samples),
      rss: { value: ours!.rssMiB, baseline: floor!.rssMiB },
    },
  ];
  const rt = await openProject(YAML, { "wasm/sleeper.wasm": "c/sleeper.core.wasm" });
  try {
    // Mailbox ping-pong: a message to the other process and its answer back, in turn.
    const M = 50_000;
    const a = rt.newProcess();
    const b = rt.newProcess();
    const mailbox = await sample(runs, async () => {
      const t = performance.now();
      const echo = (async () => {
        for (let i = 0; i < M; i++) {
          await b.receive();
          b.send(a.pid, "pong", i);
        }
      })();
      for (let i = 0; i < M; i++) {
        a.send(b.pid, "ping", i);
        await a.receive();
      }
      await echo;
      return (2 * M) / ((performance.now() - t) / 1000);
    });
    // Floor: the same ping-pong through the least Node offers, one promise per message.
    const handoff = await sample(runs, async () => {
      const channel = () => {
        let waiting: ((v: number) => void) | undefined;
        const queued: number[] = [];
        return {
          send: (v: number) => (waiting ? (waiting(v), (waiting = undefined)) : queued.push(v)),
          receive: () => (queued.length ? Promise.resolve(queued.pop()!) : new Promise<number>((r) => (waiting = r))),
        };
      };
      const toB = channel();
      const toA = channel();
      const t = performance.now();
      const echo = (async () => {
        for (let i = 0; i < M; i++) toA.send(await toB.receive());
      })();
      for (let i = 0; i < M; i++) {
        toB.send(i);
        await toA.receive();
      }
      await echo;
      return (2 * M) / ((performance.now() - t) / 1000);
    });
    rows.push({ name: "ping-pong between two processes (host mailbox)", unit: "msg/s", value: stats(mailbox), baselineName: "the same ping-pong over bare promises", baseline: stats(handoff), higherIsBetter: true });
    return rows;
  } finally {
    await rt.close();
  }
}
