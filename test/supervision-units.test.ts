// The supervision logic on its own: strategies, restart types, intensity,
// backoff, spec validation, and restart planning as pure functions of an
// immutable book.

import { describe, expect, it } from "vitest";
import {
  addRestart, attemptsExhausted, backoffDelay, exceedsIntensity, nextAttempt, normalizeSupervisor, planRestart, shouldRestart,
  stableAfter, SupervisorSpecError, wouldExceed, DEFAULT_RESTART, type SupervisorSpec,
  newBook, startAll, started, plan, restartDue, shutdown, childInfo, isIdle, nextRestartAt, type Book, type Step,
} from "../supervisors/index.ts";
import { HashMap, Vec } from "../supervisors/persistent.ts";
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
        children: [{ id: "a", process: "p", host: "h" }, { id: "a", process: "p", host: "h" }, { id: "b" } as never, { id: "c", process: "p", host: "h", restart: { jitter: 2 } }],
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

describe("planning (pure functions of an immutable book)", () => {
  const spec = (strategy: SupervisorSpec["strategy"], intensity = 3): SupervisorSpec =>
    normalizeSupervisor({
      id: "s", strategy, intensity, period: 1000,
      children: ["a", "b", "c"].map((id) => ({ id, process: "p", host: "h", restart: { initialDelay: 10, maxDelay: 10, jitter: 0 } })),
    });
  const trap: ExitResult = { error: { kind: "trap", message: "boom" } };
  const cancelled: ExitResult = { error: { kind: "cancelled", message: "" } };
  const down = (pid: string, at: number, result = trap) => ({ pid, result, at, random: 0.5 });
  const kinds = (step: Step) => step.effects.map((e) => (e.type === "emit" ? `emit ${e.event.type}` : e.type));
  /** A book whose children all started: pids p0, p1, p2. */
  function running(s: SupervisorSpec): Book {
    let book = newBook(s);
    expect(startAll(book).effects).toEqual([{ type: "startChildren", params: { children: [0, 1, 2].map((key) => ({ key, spec: s.children[key] })) } }]);
    for (let k = 0; k < 3; k++) book = started(book, k, `p${k}`, 0).book;
    return book;
  }
  const states = (book: Book) => childInfo(book).map((c) => c.state);

  it("rest_for_one: stops later siblings one at a time, latest first, then restarts them together; the old book is untouched", () => {
    const before = running(spec("rest_for_one"));
    const frozen = JSON.stringify(before);
    const step = plan(before, down("p1", 0));
    expect(JSON.stringify(before)).toBe(frozen);
    expect(states(before)).toEqual(["running", "running", "running"]);
    expect(kinds(step)).toEqual(["emit child.exited", "stopChild"]);
    expect(step.effects[0]).toMatchObject({ event: { outcome: "restart", delay: 10, child: "b" } });
    expect(step.effects[1]).toMatchObject({ params: { key: 2, pid: "p2", reason: "restart by s" } });
    expect(nextRestartAt(step.book)).toBeNull(); // stops first
    const after = plan(step.book, down("p2", 1, cancelled));
    expect(after.effects[0]).toMatchObject({ event: { outcome: "planned", child: "c" } });
    expect(states(after.book)).toEqual(["running", "restarting", "restarting"]);
    expect(nextRestartAt(after.book)).toBe(10);
    expect(restartDue(after.book, 5).effects).toEqual([]);
    const due = restartDue(after.book, 10);
    expect(due.effects.flatMap((e) => (e.type === "startChildren" ? e.params.children.map((c) => c.key) : []))).toEqual([1, 2]);
    expect(childInfo(due.book).map((c) => [c.state, c.restarts])).toEqual([["running", 0], ["starting", 1], ["starting", 1]]);
  });

  it("gives up past the intensity; an EXIT from an unknown pid is stale", () => {
    const book = running(spec("one_for_one", 1));
    expect(plan(book, down("nope", 0)).book).toEqual(book);
    const once = plan(book, down("p0", 0));
    expect(once.failure).toBeUndefined();
    const back = started(restartDue(once.book, 10).book, 0, "p0b", 10).book;
    expect(plan(back, down("p0b", 20)).failure).toMatchObject({ kind: "limit", message: "s: more than 1 restart within 1000 ms; last: a trap: boom" });
    expect(plan(back, down("p0b", 1000)).failure).toBeUndefined();
  });

  it("shutdown stops every live child latest first, one at a time, and ends idle", () => {
    let step = shutdown(running(spec("one_for_one")), "bye");
    const order: string[] = [];
    for (let e = step.effects.find((x) => x.type === "stopChild"); e && e.type === "stopChild"; e = step.effects.find((x) => x.type === "stopChild")) {
      order.push(e.params.pid);
      expect(isIdle(step.book)).toBe(false);
      step = plan(step.book, down(e.params.pid, 0, cancelled));
    }
    expect(order).toEqual(["p2", "p1", "p0"]);
    expect(isIdle(step.book)).toBe(true);
  });

  it("a shutdown waits for a spawn in flight and stops that child once its start is confirmed", () => {
    const book = newBook(spec("one_for_one"));
    const step = shutdown(book, "bye");
    expect(isIdle(step.book)).toBe(false);
    const late = started(step.book, 0, "p0", 0);
    expect(late.effects.find((e) => e.type === "stopChild")).toMatchObject({ params: { pid: "p0", reason: "bye" } });
  });

  it("one child's change copies neither the records nor the pid index (10 000 children)", () => {
    const s: SupervisorSpec = { ...spec("one_for_one"), children: Array.from({ length: 10_000 }, (_, i) => ({ ...spec("one_for_one").children[0]!, id: `c${i}`, restart: { ...DEFAULT_RESTART, policy: "temporary" } })) };
    let book = newBook(s);
    for (let k = 0; k < 10_000; k++) book = started(book, k, `p${k}`, 0).book;
    const next = plan(book, down("p5000", 1)).book;
    expect(next.byPid.size).toBe(9_999);
    expect(book.byPid.size).toBe(10_000);
    expect(next.children.get(5000)!.state).toBe("stopped");
    expect(next.children.get(4999)).toBe(book.children.get(4999)); // shared, not copied
  });
});

describe("persistent collections", () => {
  it("Vec: push and set return new vectors; the old ones are unchanged", () => {
    let v = Vec.empty<number>();
    const snapshots: Vec<number>[] = [];
    for (let i = 0; i < 2000; i++) {
      v = v.push(i);
      if (i % 500 === 0) snapshots.push(v);
    }
    const w = v.set(1234, -1);
    expect(v.get(1234)).toBe(1234);
    expect(w.get(1234)).toBe(-1);
    expect([...w].filter((x) => x < 0)).toEqual([-1]);
    expect(snapshots.map((s) => s.size)).toEqual([1, 501, 1001, 1501]);
    expect(snapshots[1]!.get(500)).toBe(500);
    expect(snapshots[1]!.get(501)).toBeUndefined();
  });

  it("HashMap: set, get, delete across many keys, colliding prefixes included", () => {
    let m = HashMap.empty<string, number>();
    for (let i = 0; i < 5000; i++) m = m.set(`{h|${i}}`, i);
    expect(m.size).toBe(5000);
    const half = [...m.keys()].filter((_, i) => i % 2 === 0).reduce((acc, k) => acc.delete(k), m);
    expect(half.size).toBe(2500);
    expect(m.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(m.get(`{h|${i}}`)).toBe(i);
    expect([...half.entries()].every(([k, v]) => m.get(k) === v)).toBe(true);
    expect(half.delete("absent")).toBe(half);
    expect(m.set("{h|7}", 70).get("{h|7}")).toBe(70);
    expect(m.set("{h|7}", 70).size).toBe(5000);
  });
});
