// The process API inside a guest (SPEC 7), messaging and spawning: C guests
// (fixtures/c/guest_probe.c, pingpong.c) talk to each other and to TypeScript with
// ordering per pair, monitor and link, are refused spawns without trapping, time out
// in receive, and exchange bytes and JSON values.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromProcess, Runtime } from "../src/index.ts";
import { ERR, exitOf, HOST, KIND, message, PROBE_BINARIES, PROBE_YAML, runProbe, upTo } from "./helpers/guests.ts";
import { captureStdio, REPO, useRuntimes } from "./helpers/project.ts";

const open = useRuntimes("guest-api");
const probe = async () => (await open(PROBE_YAML, PROBE_BINARIES)).runtime;

/** A TS actor that takes n messages on `topic` and returns their payloads. */
const collector = (n: number, topic: string) =>
  fromProcess(async ({ receive }) => {
    const got: unknown[] = [];
    while (got.length < n) {
      const e = await receive({ match: message(topic), timeout: 30_000 });
      if (!e || e.type !== "MESSAGE") return { timedOutAfter: got };
      got.push(e.payload);
    }
    return got;
  });

describe("guest ↔ guest", () => {
  it("examples/ping-pong: two C guests exchange 200 messages, each pong checked; the pinger ends with the count", async () => {
    const io = captureStdio();
    const cacheDir = mkdtempSync(join(tmpdir(), "wippy-guest-api-cache-"));
    const rt = await Runtime.open({ root: join(REPO, "examples", "ping-pong"), cacheDir, stdio: io.stdio });
    try {
      const ping = await rt.process.spawnMonitored("pingpong:ping", "pingpong:processes", "200");
      const result = await exitOf(rt.process, ping);
      expect(io.stderr(ping)).toBe("");
      expect(result).toEqual({ value: 200 });
      expect(rt.processes()).toEqual([]); // the ponger was cancelled and ended too
    } finally {
      await rt.close(100);
    }
  });

  it("a burst of 300 messages from one guest reaches another in order", async () => {
    const rt = await probe();
    const collect = await rt.process.spawnMonitored("probe:collect", HOST, 300);
    const sender = await rt.process.spawnMonitored("probe:sender", HOST, 300);
    await rt.process.send(sender, "target", collect);
    expect(await exitOf(rt.process, collect)).toEqual({ value: 300 });
    expect(await exitOf(rt.process, sender)).toEqual({ value: 300 });
  });
});

describe("guest ↔ TypeScript", () => {
  it("TS → guest → TS: a guest relays 200 messages from the runtime's process and 200 from a TS actor, in order per pair", async () => {
    const rt = await probe();
    const relay = await rt.process.spawnMonitored("probe:relay", HOST, 400);
    const ordered = fromProcess<unknown[], string>(async ({ input, send, receive }) => {
      for (const i of upTo(200)) await send(input, "a", i);
      const back: unknown[] = [];
      for (const _ of upTo(200)) {
        const e = await receive({ match: message("re:a", input), timeout: 30_000 });
        back.push(e?.type === "MESSAGE" ? e.payload : "timeout");
      }
      return back;
    });
    const tsActor = await rt.spawnActor(ordered, { host: HOST, monitor: true, input: relay });
    for (const i of upTo(200)) expect(await rt.process.send(relay, "b", { i })).toBe(true);
    const replies: unknown[] = [];
    for (const _ of upTo(200)) {
      const e = await rt.process.receive({ match: message("re:b", relay), timeout: 30_000 });
      replies.push(e?.type === "MESSAGE" ? e.payload : "timeout");
    }
    expect(replies).toEqual(upTo(200).map((i) => ({ i })));
    expect(await exitOf(rt.process, tsActor)).toEqual({ value: upTo(200) });
    expect(await exitOf(rt.process, relay)).toEqual({ value: 400 });
  });

  it("guest → TS: 300 messages from a guest reach a TS actor and the runtime's process in order", async () => {
    const rt = await probe();
    const actor = await rt.spawnActor(collector(300, "seq"), { host: HOST, monitor: true });
    const toActor = await rt.process.spawnMonitored("probe:sender", HOST, 300);
    const toRuntime = await rt.process.spawnMonitored("probe:sender", HOST, 300);
    await rt.process.send(toActor, "target", actor);
    await rt.process.send(toRuntime, "target", rt.process.pid);
    const got: unknown[] = [];
    for (const _ of upTo(300)) {
      const e = await rt.process.receive({ match: message("seq", toRuntime), timeout: 30_000 });
      got.push(e?.type === "MESSAGE" ? e.payload : "timeout");
    }
    expect(got).toEqual(upTo(300));
    expect(await exitOf(rt.process, actor)).toEqual({ value: upTo(300) });
    expect(await exitOf(rt.process, toActor)).toEqual({ value: 300 });
    expect(await exitOf(rt.process, toRuntime)).toEqual({ value: 300 });
  });
});

describe("spawning, monitors and links from a guest", () => {
  it("a guest monitor gets compute_worker(6, 7)'s EXIT value as JSON, from the pid it spawned", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "monitor_entry", 0)).toEqual({ value: { event: KIND.EXIT, same: true, error: 0, payload: 42 } });
  });

  it("a guest monitor gets an EXIT error as {kind, message}", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "monitor_entry", 1)).toEqual({
      value: { event: KIND.EXIT, same: true, error: 1, payload: { kind: "trap", message: expect.any(String) } },
    });
  });

  it("a guest that traps links gets LINK_DOWN with the linked process's error and ends with its own result", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "trap_links", 1)).toEqual({
      value: { event: KIND.LINK_DOWN, same: true, error: 1, payload: { kind: "trap", message: expect.any(String) } },
    });
  });

  it("a guest that does not trap links is taken down by the linked failure with kind link", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "trap_links", 0)).toEqual({ error: expect.objectContaining({ kind: "link" }) });
  });

  it("a spawn not listed in process.spawn is an error code and a message naming the entry; the guest does not trap", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "spawn_refused")).toEqual({ value: { rc: ERR.DENIED, error: expect.stringContaining("probe:forbidden") } });
    expect(rt.processes()).toEqual([]);
  });

  it("a reserved topic, JSON that does not parse and args that are not an array are refused with an error code", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "bad_calls")).toEqual({
      value: { reserved: ERR.INVALID, bad_payload: ERR.INVALID, bad_result: ERR.INVALID, bad_args: ERR.INVALID },
    });
  });

  it("self is the pid its spawner got", async () => {
    const rt = await probe();
    const pid = await rt.process.spawnMonitored("probe:self_pid", HOST);
    expect(await exitOf(rt.process, pid)).toEqual({ value: pid });
  });
});

describe("receive and values", () => {
  it("receive with a timeout returns TIMEOUT when nothing arrives; a timeout of 0 polls", async () => {
    const rt = await probe();
    expect(await runProbe(rt, "wait_event", 30)).toEqual({ value: KIND.TIMEOUT });
    expect(await runProbe(rt, "wait_event", 0)).toEqual({ value: KIND.TIMEOUT });
  });

  it("set-result with bytes reaches TypeScript as a Uint8Array, with JSON as the parsed value", async () => {
    const rt = await probe();
    const bytes = await runProbe(rt, "result_bytes");
    expect("value" in bytes && bytes.value).toBeInstanceOf(Uint8Array);
    expect(bytes).toEqual({ value: new Uint8Array([0, 1, 2, 255]) });
    expect(await runProbe(rt, "result_json")).toEqual({ value: { a: [1, 2], s: "x" } });
  });

  it("a Uint8Array sent from TypeScript arrives as bytes, any other value as its JSON text", async () => {
    const rt = await probe();
    const seen = async (payload: unknown) => {
      const pid = await rt.process.spawnMonitored("probe:inspect", HOST);
      await rt.process.send(pid, "look", payload);
      const result = await exitOf(rt.process, pid);
      if (!("value" in result)) throw new Error(`inspect failed: ${JSON.stringify(result)}`);
      const { topic, format, hex } = result.value as { topic: string; format: number; hex: string };
      return { topic, format, bytes: Buffer.from(hex, "hex") };
    };
    const binary = await seen(new Uint8Array([0, 1, 2, 255]));
    expect(binary).toEqual({ topic: "look", format: 0, bytes: Buffer.from([0, 1, 2, 255]) });
    const json = await seen({ a: 1, s: "é", list: [true, null] });
    expect(json.format).toBe(1);
    expect(JSON.parse(json.bytes.toString("utf8"))).toEqual({ a: 1, s: "é", list: [true, null] });
    const text = await seen("plain text");
    expect([text.format, JSON.parse(text.bytes.toString("utf8"))]).toEqual([1, "plain text"]);
  });
});
