// The supervision logic on its own: strategies, restart types, intensity,
// backoff, spec validation and the bookkeeping, with an injected clock.

import { describe, expect, it } from "vitest";
import {
  addRestart, attemptsExhausted, backoffDelay, exceedsIntensity, nextAttempt, normalizeSupervisor, planRestart, shouldRestart,
  stableAfter, SupervisorBook, SupervisorSpecError, wouldExceed, DEFAULT_RESTART, type SupervisorSpec,
} from "../supervisors/index.ts";
import type { ExitResult } from "../src/process/exit.ts";
import type { RestartConfig, RestartPolicy } from "../src/registry/types.ts";

const policies = (...p: RestartPolicy[]) => p.map((policy) => ({ policy }));

describe("planRestart", () => {
  const kids = policies("permanent", "transient", "temporary", "permanent", "permanent");
  it("one_for_one: only the failed child", () => {
    expect(planRestart("one_for_one", kids, 1)).toEqual({ stop: [], restart: [1] });
  });
  it("one_for_all: every sibling stopped latest first; temporary ones are not restarted", () => {
    expect(planRestart("one_for_all", kids, 1)).toEqual({ stop: [4, 3, 2, 0], restart: [0, 1, 3, 4] });
  });
  it("rest_for_one: the failed child and those started after it", () => {
    expect(planRestart("rest_for_one", kids, 1)).toEqual({ stop: [4, 3, 2], restart: [1, 3, 4] });
    expect(planRestart("rest_for_one", kids, 4)).toEqual({ stop: [], restart: [4] });
  });
  it("rejects an index out of range", () => {
    expect(() => planRestart("one_for_one", kids, 5)).toThrow(RangeError);
  });
});

describe("shouldRestart: restart type × how the child ended", () => {
  const normal: ExitResult = { value: 0 };
  const trap: ExitResult = { error: { kind: "trap", message: "x" } };
  const cancelled: ExitResult = { error: { kind: "cancelled", message: "x" } };
  const killed: ExitResult = { error: { kind: "killed", message: "x" } };
  it.each([
    ["permanent", normal, true], ["permanent", trap, true], ["permanent", cancelled, true],
    ["transient", normal, false], ["transient", trap, true], ["transient", killed, true], ["transient", cancelled, false],
    ["temporary", normal, false], ["temporary", trap, false],
  ] as const)("%s after %j → %s", (policy, exit, expected) => {
    expect(shouldRestart(policy, exit)).toBe(expected);
  });
});

describe("intensity", () => {
  it("counts restarts within the period and forgets older ones", () => {
    let w: number[] = [];
    for (const t of [0, 100, 200]) w = addRestart(w, t, 1000);
    expect(exceedsIntensity(w, 3)).toBe(false);
    expect(wouldExceed(w, 300, 3, 1000)).toBe(true);
    expect(wouldExceed(w, 1000, 3, 1000)).toBe(false); // the one at 0 is a full period old
    expect(addRestart(w, 5000, 1000)).toEqual([5000]);
  });
  it("intensity 0 allows no restart at all", () => {
    expect(wouldExceed([], 0, 0, 1000)).toBe(true);
  });
});

describe("backoff", () => {
  const cfg: RestartConfig = { policy: "permanent", initialDelay: 100, maxDelay: 1000, backoffFactor: 2, jitter: 0 };
  it("grows exponentially up to max_delay", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(cfg, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it("spreads by ± jitter, with the random source injected", () => {
    const j = { ...cfg, jitter: 0.5 };
    expect(backoffDelay(j, 1, () => 0)).toBe(50);
    expect(backoffDelay(j, 1, () => 0.5)).toBe(100);
    expect(backoffDelay(j, 1, () => 1)).toBe(150);
  });
  it("the attempt count resets after a stable run of max(max_delay, 1 s)", () => {
    expect(stableAfter(cfg)).toBe(1000);
    expect(stableAfter({ ...cfg, maxDelay: 30_000 })).toBe(30_000);
    expect(nextAttempt(cfg, 3, 999)).toBe(4);
    expect(nextAttempt(cfg, 3, 1000)).toBe(1);
  });
  it("max_attempts bounds consecutive restarts", () => {
    expect(attemptsExhausted({ ...cfg, maxAttempts: 2 }, 2)).toBe(false);
    expect(attemptsExhausted({ ...cfg, maxAttempts: 2 }, 3)).toBe(true);
    expect(attemptsExhausted(cfg, 1e9)).toBe(false);
  });
});

describe("normalizeSupervisor", () => {
  it("fills defaults", () => {
    const spec = normalizeSupervisor({ id: "s", children: [{ id: "a", process: "p", host: "h" }] });
    expect(spec).toMatchObject({ id: "s", strategy: "one_for_one", intensity: 3, period: 5000 });
    expect(spec.children[0]).toMatchObject({ kind: "service", input: [], stopTimeout: 5000, restart: DEFAULT_RESTART });
  });
  it("reports every problem at once, naming supervisor, child and field", () => {
    let err: unknown;
    try {
      normalizeSupervisor({
        id: "s", strategy: "one_for_some" as never, intensity: -1,
        children: [{ id: "a", process: "p", host: "h" }, { id: "a", process: "p", host: "h" }, { id: "b" }, { id: "c", process: "p", host: "h", restart: { jitter: 2 } }],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SupervisorSpecError);
    const problems = (err as SupervisorSpecError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/supervisor s: strategy "one_for_some" is not one of one_for_one, one_for_all, rest_for_one/);
    expect(problems.join("\n")).toMatch(/intensity must be an integer >= 0/);
    expect(problems.join("\n")).toMatch(/children\[1\] a is listed twice/);
    expect(problems.join("\n")).toMatch(/children\[2\] \(b\): give exactly one of process/);
    expect(problems.join("\n")).toMatch(/children\[3\] \(c\): restart.jitter must be a number from 0 to 1/);
  });
  it("a restart policy can be given by name", () => {
    expect(normalizeSupervisor({ id: "s", children: [{ id: "a", process: "p", host: "h", restart: "temporary" }] }).children[0]!.restart.policy).toBe("temporary");
  });
});

describe("SupervisorBook", () => {
  const clock = { t: 0, now() { return this.t; }, random: () => 0.5 };
  const spec = (strategy: SupervisorSpec["strategy"], intensity = 3): SupervisorSpec =>
    normalizeSupervisor({
      id: "s", strategy, intensity, period: 1000,
      children: ["a", "b", "c"].map((id) => ({ id, process: "p", host: "h", restart: { initialDelay: 10, maxDelay: 10, jitter: 0 } })),
    });
  const trap: ExitResult = { error: { kind: "trap", message: "boom" } };
  function started(book: SupervisorBook): void {
    book.initialStarts().forEach((i) => book.started(i, `p${i}`, clock.t));
  }

  it("rest_for_one: stops later siblings one at a time, latest first, then restarts them together", () => {
    const book = new SupervisorBook(spec("rest_for_one"), clock);
    started(book);
    const a = book.assess({ pid: "p1" }, trap, 0);
    expect(a).toMatchObject({ kind: "restart", index: 1, attempt: 1 });
    expect(book.apply(a, 0)).toBe(10);
    expect(book.takeStop()).toMatchObject({ index: 2, pid: "p2" });
    expect(book.takeStop()).toBeNull(); // one at a time
    expect(book.nextDueIn(0)).toBeNull(); // stops first
    book.apply(book.assess({ pid: "p2" }, { error: { kind: "cancelled", message: "" } }, 1), 1);
    expect(book.info().map((c) => c.state)).toEqual(["running", "restarting", "restarting"]);
    expect(book.nextDueIn(1)).toBe(9);
    expect(book.takeDue(5)).toEqual([]);
    expect(book.takeDue(10)).toEqual([1, 2]);
    expect(book.info().map((c) => c.restarts)).toEqual([0, 1, 1]);
  });

  it("gives up past the intensity; an EXIT from an unknown pid is stale", () => {
    const book = new SupervisorBook(spec("one_for_one", 1), clock);
    started(book);
    expect(book.assess({ pid: "nope" }, trap, 0)).toEqual({ kind: "stale" });
    book.apply(book.assess({ pid: "p0" }, trap, 0), 0);
    book.takeDue(10).forEach((i) => book.started(i, "p0b", 10));
    expect(book.assess({ pid: "p0b" }, trap, 20)).toMatchObject({ kind: "give-up", error: { kind: "limit" } });
    expect(book.assess({ pid: "p0b" }, trap, 1000)).toMatchObject({ kind: "restart" });
  });

  it("shutdown queues every live child latest first and ends idle", () => {
    const book = new SupervisorBook(spec("one_for_one"), clock);
    started(book);
    book.shutdown();
    const order: string[] = [];
    for (let s = book.takeStop(); s; s = book.takeStop()) {
      order.push(s.pid);
      book.downInShutdown({ pid: s.pid }, { error: { kind: "cancelled", message: "" } });
    }
    expect(order).toEqual(["p2", "p1", "p0"]);
    expect(book.idle).toBe(true);
  });
});
