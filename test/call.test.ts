// runtime.call / runtime.callWith (SPEC 4.4): a function.wasm entry runs under its
// limits as a process does, an abort ends it, and either way the call settles with a
// typed ProcessError instead of hanging; the guest never runs on after the call ended.

import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ProcessError } from "../src/index.ts";
import { useRuntimes } from "./helpers/project.ts";

const openProject = useRuntimes("call");

const fn = (name: string, path: string, method: string, extra = "") =>
  `  - { name: ${name}, kind: function.wasm, fs: bin, path: ${path}, hash: "{{hash:wasm${path}}}", method: ${method}${extra} }`;
const CLI = "imports: [wasi:cli, wasi:clocks, wasi:io]";
/** A C component's libc imports the filesystem interfaces too (it finds none granted to it). */
const CLI_C = "imports: [wasi:cli, wasi:clocks, wasi:io, wasi:filesystem]";

const YAML = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
${fn("mul", "/compute.wasm", "compute")}
${fn("trap", "/compute.wasm", "trap")}
${fn("spin", "/compute.wasm", "spin", ", limits: { max_execution_ms: 100 }")}
${fn("grow", "/compute.wasm", "grow", ", limits: { max_memory: 262144 }")}
${fn("sieve_fuel", "/cpu.core.wasm", "sieve", ", limits: { fuel: 50000 }")}
${fn("sleep_core", "/sleeper.core.wasm", "_start", `, ${CLI}`)}
${fn("sleep_core_limited", "/sleeper.core.wasm", "_start", `, ${CLI}, limits: { max_execution_ms: 100 }`)}
${fn("sieve_c", "/cpu.wasm", "sieve")}
${fn("spin_c", "/cpu.wasm", "spin", ", limits: { max_execution_ms: 100 }")}
${fn("sieve_c_fuel", "/cpu.wasm", "sieve", ", limits: { fuel: 50000 }")}
${fn("hog_c", "/cpu.wasm", "hog", ", limits: { max_memory: 8388608 }")}
${fn("sleep_c", "/sleeper.wasm", "wasi:cli/run#run", `, ${CLI_C}`)}
${fn("sleep_c_limited", "/sleeper.wasm", "wasi:cli/run#run", `, ${CLI_C}, limits: { max_execution_ms: 100 }`)}
`;

const BINARIES = {
  "wasm/compute.wasm": "core/compute.wasm",
  "wasm/cpu.core.wasm": "c/cpu.core.wasm",
  "wasm/cpu.wasm": "c/cpu.wasm",
  "wasm/sleeper.core.wasm": "c/sleeper.core.wasm",
  "wasm/sleeper.wasm": "c/sleeper.wasm",
};

async function open() {
  return openProject(YAML, BINARIES);
}

/** The call's rejection, which must be a ProcessError. */
async function failure(call: Promise<unknown>): Promise<ProcessError> {
  const err = await call.then(
    (value) => new Error(`resolved with ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProcessError);
  return err as ProcessError;
}

/** `call`, or a rejection (not a ProcessError) if it is still pending after `ms`: the call hung. */
function settlesWithin<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the call was still pending after ${ms} ms`)), ms);
  });
  return Promise.race([call, hung]).finally(() => clearTimeout(timer));
}

describe("runtime.call", () => {
  it("returns the method's value (core module and component)", async () => {
    const { runtime: rt } = await open();
    expect(await rt.call("t:mul", 6, 7)).toBe(42);
    expect(await rt.call("t:sieve_c", 100)).toBe(25);
    expect(await rt.callWith({ signal: new AbortController().signal }, "t:mul", 3, 5)).toBe(15);
  });

  it("a trap rejects with kind trap; a missing entry with kind spawn", async () => {
    const { runtime: rt } = await open();
    expect(await failure(rt.call("t:trap"))).toMatchObject({ kind: "trap", message: expect.stringContaining("unreachable") });
    expect(await failure(rt.call("t:nothing"))).toMatchObject({ kind: "spawn", message: "no entry t:nothing in the registry" });
  });

  it("past max_execution_ms while spinning: kind limit (core module and component)", async () => {
    const { runtime: rt } = await open();
    const limit = "ran longer than 100 ms (limit max_execution_ms: 100); raise max_execution_ms in the entry's limits or the process.host's defaults";
    expect(await failure(rt.call("t:spin"))).toMatchObject({ kind: "limit", message: limit });
    expect(await failure(rt.call("t:spin_c"))).toMatchObject({ kind: "limit", message: limit });
  });

  // The guest sleeps 5 s; only the wall-clock timer can settle the call before then.
  for (const [kind, id] of [["core module", "t:sleep_core"], ["component", "t:sleep_c"]] as const) {
    it(`past max_execution_ms while asleep in WASI: kind limit, before the sleep would end (${kind})`, async () => {
      const { runtime: rt } = await open();
      expect(await rt.call(id, "0")).toBe(0); // loads the binary: a first transpile is not the call's time
      const call = rt.call(`${id}_limited`, "5000");
      expect(await failure(settlesWithin(call, 4000))).toMatchObject({ kind: "limit", message: expect.stringContaining("limit max_execution_ms: 100") });
    });
  }

  it("a guest stopped at its limit mid-sleep never runs on: its sleep's end does not print", async () => {
    const { runtime: rt, io } = await open();
    expect(await rt.call("t:sleep_core", "0")).toBe(0);
    expect(io.stdout("t:sleep_core")).toBe("slept\n");
    expect(await failure(rt.call("t:sleep_core_limited", "300"))).toMatchObject({ kind: "limit" });
    await sleep(600);
    expect(io.stdout("t:sleep_core_limited")).toBe("");
  });

  it("fuel exhausted: kind limit (core module and component)", async () => {
    const { runtime: rt } = await open();
    const fuel = "ran out of fuel (limit fuel: 50000); raise fuel in the entry's limits or the process.host's defaults";
    expect(await failure(rt.call("t:sieve_fuel", 1_000_000))).toMatchObject({ kind: "limit", message: fuel });
    expect(await failure(rt.call("t:sieve_c_fuel", 1_000_000))).toMatchObject({ kind: "limit", message: fuel });
  });

  it("past max_memory: kind limit (core module and component); growth within it works", async () => {
    const { runtime: rt } = await open();
    expect(await rt.call("t:grow", 3)).toBe(4);
    expect(await failure(rt.call("t:grow", 1000))).toMatchObject({ kind: "limit", message: expect.stringContaining("limit max_memory: 262144") });
    expect(await failure(rt.call("t:hog_c", 64))).toMatchObject({ kind: "limit", message: expect.stringContaining("limit max_memory: 8388608") });
    expect(await rt.call("t:hog_c", 2)).toBe(2);
  });
});

describe("runtime.callWith", () => {
  it("aborted while the guest sleeps in WASI: kind cancelled with the reason, and the guest never runs on", async () => {
    const { runtime: rt, io } = await open();
    for (const id of ["t:sleep_core", "t:sleep_c"]) {
      expect(await rt.call(id, "0")).toBe(0); // loaded, so that the abort comes while it sleeps
      const abort = new AbortController();
      const call = rt.callWith({ signal: abort.signal }, id, "500");
      await sleep(50);
      abort.abort("the user gave up");
      expect(await failure(settlesWithin(call, 400))).toMatchObject({ kind: "cancelled", message: `the call to ${id} was cancelled: the user gave up` });
    }
    await sleep(700); // past both sleeps: a guest resumed after the abort would print now
    expect(io.stdout("t:sleep_core")).toBe("slept\n"); // the warm-up's alone
    expect(io.stdout("t:sleep_c")).toBe("slept\n");
  });

  it("an abort reason that is an Error lends its message; one with no reason still rejects", async () => {
    const { runtime: rt } = await open();
    const abort = new AbortController();
    const call = rt.callWith({ signal: abort.signal }, "t:sleep_core", "5000");
    abort.abort(new Error("shutting down"));
    expect(await failure(call)).toMatchObject({ kind: "cancelled", message: "the call to t:sleep_core was cancelled: shutting down" });
    const bare = new AbortController();
    const call2 = rt.callWith({ signal: bare.signal }, "t:spin_c");
    setTimeout(() => bare.abort(), 20);
    expect(await failure(call2)).toMatchObject({ kind: "cancelled", message: expect.stringMatching(/^the call to t:spin_c was cancelled/) });
  });

  it("an already aborted signal rejects at once, without loading or instantiating anything", async () => {
    const { runtime: rt } = await open();
    const err = await failure(rt.callWith({ signal: AbortSignal.abort("too late") }, "t:mul", 1, 2));
    expect(err).toMatchObject({ kind: "cancelled", message: "the call to t:mul was cancelled: too late" });
    expect(rt.loaderStats).toMatchObject({ compiled: 0, transpiled: 0, instrumented: 0, instrumentCacheHits: 0 });
  });

  it("aborted while its binary loads: rejects without waiting for the load, and the next call works", async () => {
    const { runtime: rt } = await open();
    const abort = new AbortController();
    const call = rt.callWith({ signal: abort.signal }, "t:mul", 1, 2);
    abort.abort("never mind");
    expect(await failure(call)).toMatchObject({ kind: "cancelled", message: "the call to t:mul was cancelled: never mind" });
    expect(rt.loaderStats.compiled).toBe(0); // the file was still being read
    expect(await rt.call("t:mul", 6, 7)).toBe(42);
  });
});
