// Scale (issue 5, items 5 and 6): stopping 10 000 children against 1 000, and
// "no EXIT lost" — 10 000 supervised processes ended by random means, three
// rounds, with the heap checked between rounds.

import { runtimeInternals } from "../src/runtime.ts";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import type { Runtime } from "../src/index.ts";
import type { ExitKind } from "../src/process/exit.ts";
import type { SupervisionEvent } from "../src/supervision/index.ts";
import type { ChildInput } from "../supervisors/spec.ts";
import { behave, openSupervised, sleeper, until, wasm } from "./helpers/supervision.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const opened: Runtime[] = [];
afterAll(async () => {
  for (const r of opened.splice(0)) await r.close(100);
});

/** Deterministic PRNG (mulberry32), so a failing mix can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("scale", () => {
  it("stopping 10 000 children costs about 10× stopping 1 000 (linear)", async () => {
    const { runtime: rt } = await openSupervised();
    opened.push(rt);
    const timeStop = async (n: number, id: string) => {
      const sup = rt.startSupervisor({ id, children: Array.from({ length: n }, (_, i) => sleeper(`c${i}`, { restart: "temporary" })) });
      await until(() => wasm(rt).length === n && wasm(rt).every((p) => p.state === "suspended"), 30_000);
      const t0 = performance.now();
      const result = await sup.stop();
      const ms = performance.now() - t0;
      expect(result).toMatchObject({ error: { kind: "cancelled" } });
      expect(rt.processes()).toEqual([]);
      return ms;
    };
    await timeStop(1000, "warmup");
    const small = await timeStop(1000, "small");
    const large = await timeStop(10_000, "large");
    console.log(`stop 1 000 children: ${small.toFixed(0)} ms; 10 000: ${large.toFixed(0)} ms; ratio ${(large / small).toFixed(1)}`);
    expect(large / small).toBeLessThan(30);
  }, 120_000);

  it("no EXIT lost: 10 000 supervised processes ended by trap, limit, kill, cancel, spawn failure, return and shutdown", async () => {
    const { runtime: rt, events } = await openSupervised();
    opened.push(rt);
    const SUPERVISORS = 10;
    const PER = 1000;
    const heap: number[] = [];
    for (let round = 0; round < 3; round++) {
      events.length = 0;
      const random = prng(42 + round);
      type Plan = "value" | "trap" | "spawn" | "limit" | "kill" | "cancel" | "shutdown";
      const want: Record<Plan, ExitKind | "value"> = { value: "value", trap: "trap", spawn: "spawn", limit: "limit", kill: "killed", cancel: "cancelled", shutdown: "cancelled" };
      const plans = new Map<string, Plan>(); // child id → how it will end
      const sups = Array.from({ length: SUPERVISORS }, (_, s) => {
        const children: ChildInput[] = [];
        for (let i = 0; i < PER; i++) {
          const id = `s${s}c${i}`;
          const r = random();
          const plan: Plan = r < 0.12 ? "value" : r < 0.24 ? "trap" : r < 0.32 ? "spawn" : r < 0.4 ? "limit" : r < 0.6 ? "kill" : r < 0.8 ? "cancel" : "shutdown";
          plans.set(id, plan);
          const tmp = { restart: "temporary" as const };
          if (plan === "value" || plan === "trap") children.push(behave(id, plan === "value" ? 0 : 1, tmp));
          else if (plan === "spawn") children.push({ id, process: "t:badhash", host: "t:hosts", input: [0], ...tmp });
          else if (plan === "limit") children.push({ id, process: "t:fuelled", host: "t:hosts", input: [], ...tmp });
          else children.push(sleeper(id, tmp));
        }
        return rt.startSupervisor({ id: `nl${s}`, strategy: "one_for_one", intensity: 0, children });
      });
      // A watcher of its own monitors every process still running.
      const watcher = rt.newProcess();
      const watched = new Map<string, Plan>();
      await until(() => wasm(rt).every((p) => p.state === "suspended"), 30_000);
      for (const sup of sups) {
        for (const c of await sup.children()) {
          if (c.pid === null) continue;
          watcher.monitor(c.pid);
          watched.set(c.pid, plans.get(c.id)!);
        }
      }
      for (const [pid, plan] of watched) {
        if (plan === "kill") rt.process.terminate(pid);
        else if (plan === "cancel") rt.process.cancel(pid, "cancel test", 1000);
      }
      await Promise.all(sups.map((s) => s.stop("round over")));

      // Every started pid has exactly one EXIT, of the kind its plan says.
      const started = events.flatMap((e) => (e.type === "child.started" ? [e] : []));
      const ended = new Map<string, Extract<SupervisionEvent, { type: "child.exited" }>>();
      for (const e of events) {
        if (e.type !== "child.exited") continue;
        expect(ended.has(e.pid), `second EXIT for ${e.pid}`).toBe(false);
        ended.set(e.pid, e);
      }
      expect(started).toHaveLength(SUPERVISORS * PER);
      expect(ended.size).toBe(SUPERVISORS * PER);
      const wrong: string[] = [];
      for (const s of started) {
        const e = ended.get(s.pid);
        const kind = e ? ("error" in e.result ? e.result.error.kind : "value") : "missing";
        if (kind !== want[plans.get(s.child)!]) wrong.push(`${s.child} (${plans.get(s.child)}) ended ${kind}`);
      }
      expect(wrong).toEqual([]);
      // The watcher's own monitors: one EXIT each, same kinds.
      let got = 0;
      for (let ev = await watcher.receive(0); ev !== null; ev = await watcher.receive(0)) {
        expect(ev.type).toBe("EXIT");
        const plan = watched.get((ev as { from: string }).from)!;
        expect("error" in ev ? ev.error.kind : "value").toBe(want[plan]);
        got++;
      }
      expect(got).toBe(watched.size);
      watcher.close();
      expect(rt.processes()).toEqual([]);
      expect(runtimeInternals(rt).table.size).toBe(1); // only runtime.process
      const counts = [...plans.values()].reduce<Record<string, number>>((m, p) => ((m[p] = (m[p] ?? 0) + 1), m), {});
      await new Promise((r) => setTimeout(r, 50));
      gc();
      gc();
      heap.push(process.memoryUsage().heapUsed);
      console.log(`round ${round + 1}: ${ended.size} EXITs, ${got} seen by the watcher, mix ${JSON.stringify(counts)}, heapUsed ${(heap.at(-1)! / 1e6).toFixed(1)} MB, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
    }
    // Later rounds do not grow the heap (beyond noise).
    expect(heap[2]! - heap[0]!).toBeLessThan(20e6);
  }, 180_000);
});
