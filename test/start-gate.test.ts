// Component starts take turns (src/wasm/start-gate.ts): a burst of CPU-bound starts
// gives timers and I/O a turn between slices instead of holding the loop to the end.

import { describe, expect, it } from "vitest";
import { START_SLICE_MS, StartGate } from "../src/wasm/start-gate.ts";

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe("StartGate", () => {
  it("runs every job once, in order, each with its own result or error", async () => {
    const gate = new StartGate();
    const order: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        gate.run(async () => {
          order.push(i);
          if (i === 3) throw new Error("job 3 failed");
          return i * 2;
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results[3]).toMatchObject({ status: "rejected", reason: { message: "job 3 failed" } });
    expect(results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual([0, 2, 4, 8, 10, 12, 14, 16, 18]);
  });

  it("a timer set before a burst of CPU-bound starts fires during the burst, not after it", async () => {
    const gate = new StartGate();
    const events: string[] = [];
    setTimeout(() => events.push("timer"), 0);
    const jobs = Array.from({ length: 20 }, (_, i) =>
      gate.run(async () => {
        events.push(`job ${i}`);
        busy(START_SLICE_MS); // each start uses up a whole slice
      }),
    );
    await Promise.all(jobs);
    const timerAt = events.indexOf("timer");
    expect(timerAt).toBeGreaterThan(0);
    expect(timerAt).toBeLessThan(events.length - 1); // it ran between starts
    expect(events.filter((e) => e.startsWith("job"))).toHaveLength(20);
  });

  it("a start that would overrun what is left of the slice waits for the next turn of the loop", async () => {
    const gate = new StartGate();
    // a chain of setImmediate counts the loop's turns; it is scheduled before the burst
    let turns = 0;
    let counting = true;
    const turn = () => {
      turns++;
      if (counting) setImmediate(turn);
    };
    setImmediate(turn);
    const turnOfJob: number[] = [];
    const jobs = Array.from({ length: 8 }, () =>
      gate.run(async () => {
        turnOfJob.push(turns);
        busy((START_SLICE_MS * 3) / 4); // two do not fit in one slice
      }),
    );
    await Promise.all(jobs);
    counting = false;
    expect(turnOfJob).toHaveLength(8);
    expect(turnOfJob[turnOfJob.length - 1]).toBeGreaterThan(0); // the loop turned before the burst ended
    // one start per turn: none shares its turn with the one before
    for (let i = 1; i < turnOfJob.length; i++) expect(turnOfJob[i]).toBeGreaterThan(turnOfJob[i - 1]!);
  });

  it("a start that waits on real I/O does not hold up the next one", async () => {
    const gate = new StartGate();
    let release!: () => void;
    const slow = gate.run(() => new Promise<string>((r) => (release = () => r("slow"))));
    const fast = await gate.run(async () => "fast");
    expect(fast).toBe("fast");
    release();
    expect(await slow).toBe("slow");
  });
});
