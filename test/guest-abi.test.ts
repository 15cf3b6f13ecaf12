// The process API inside a guest, at the ABI level: the core-module functions of
// include/wippy/process.h (fixtures/core/process-echo.wat) and the component interface
// of wit/process.wit (fixtures/components/process-probe), values crossing both ways,
// refusals as error values, and the registry's grants.

import { describe, expect, it } from "vitest";
import { loadRegistry } from "../src/registry/index.ts";
import { useRuntimes, makeProject } from "./helpers/project.ts";
import { fromProcess, MailboxFullError } from "../src/index.ts";
import { runtimeInternals } from "../src/runtime.ts";

const open = useRuntimes("guest-abi");

const entry = (name: string, method: string, file = "echo", extra = "imports: [wippy:process]") => `
  - name: ${name}
    kind: process.wasm
    fs: t:bin
    path: /${file}.wasm
    hash: {{hash:wasm/${file}.wasm}}
    method: ${method}
    ${extra}`;

const YAML = `
version: "1.0"
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: host, kind: process.host }
${entry("echo", "echo")}
${entry("whoami", "whoami")}
${entry("bad_topic", "bad_topic")}
${entry("oob", "oob")}
${entry("wait", "wait")}
${entry("small", "wait", "echo", "imports: [wippy:process]\n    limits: { max_mailbox: 2 }")}
${entry("probe", "run", "probe")}
`;
const BINARIES = { "wasm/echo.wasm": "core/process-echo.wasm", "wasm/probe.wasm": "components/process-probe/process-probe.wasm" };
const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

describe("core modules: wippy:process", () => {
  it("a TS value crosses as JSON, a Uint8Array as bytes, and comes back as what was sent, in order", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:echo", "t:host", 4);
    const sent: unknown[] = [{ x: 1, list: [true, null, "s"] }, new Uint8Array([1, 2, 255]), "text", 2 ** 40];
    for (const v of sent) expect(await p.send(pid, "m", v)).toBe(true);
    for (const v of sent) {
      const ev = await p.receive(30_000);
      expect(ev).toMatchObject({ type: "MESSAGE", from: pid, topic: "echo" });
      expect((ev as { payload: unknown }).payload).toEqual(v);
      if (v instanceof Uint8Array) expect((ev as { payload: unknown }).payload).toBeInstanceOf(Uint8Array);
    }
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: pid, value: 4 });
  });

  it("a value JSON cannot carry is a TypeError at send, naming what", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawn("t:echo", "t:host", 1);
    await expect(p.send(pid, "m", { f: () => 1 })).rejects.toThrow(/payload\.f is a function/);
    await expect(p.send(pid, "m", new Map())).rejects.toThrow(/a Map/);
    await expect(p.send(pid, "m", { n: Number.NaN })).rejects.toThrow(/NaN/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    await expect(p.send(pid, "m", cyc)).rejects.toThrow(TypeError);
    await expect(p.send(pid, "m", 10n)).rejects.toThrow(/bigint/);
  });

  it("self gives the guest its own pid; set-result with bytes reaches TS as a Uint8Array", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:whoami", "t:host");
    const ev = await p.receive(30_000);
    expect(ev).toMatchObject({ type: "EXIT", from: pid });
    const value = (ev as { value: unknown }).value;
    expect(value).toBeInstanceOf(Uint8Array);
    expect(text(value)).toBe(pid); // set-result wins over the method's return value
  });

  it("a reserved topic is an error value in the guest (WIPPY_ERR_INVALID) with a message, not a trap", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    await p.spawnMonitored("t:bad_topic", "t:host");
    const ev = (await p.receive(30_000)) as { value: unknown };
    expect(text(ev.value)).toMatch(/topic "EXIT" is reserved/);
    // the method returned the code after set-result: the set result wins
  });

  it("a pointer outside the guest's memory traps the guest, naming the function", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:oob", "t:host");
    const ev = await p.receive(30_000);
    expect(ev).toMatchObject({ type: "EXIT", from: pid, error: { kind: "trap" } });
    expect((ev as { error: { message: string } }).error.message).toMatch(/wippy:process send: pointer 65530/);
  });

  it("receive with a timeout returns 0 (nothing) once it passes; a poll returns at once", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const a = await p.spawnMonitored("t:wait", "t:host", 30);
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: a, value: 0 });
    const b = await p.spawnMonitored("t:wait", "t:host", 0);
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: b, value: 0 });
  });

  it("a guest parked in receive is suspended, and CANCEL reaches it as an event (kind 4) rather than ending it", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:wait", "t:host", -1);
    await expect.poll(() => runtime.processes().find((x) => x.pid === pid)?.state).toBe("suspended");
    await p.cancel(pid, "please stop");
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: pid, value: 4 });
  });

  it("a message a waiting receive takes is handed over at once; CANCEL ends a timed wait as an event", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:small", "t:host", -1); // wait(-1) with max_mailbox 2
    await expect.poll(() => runtime.processes().find((x) => x.pid === pid)?.state).toBe("suspended");
    expect(await p.send(pid, "m", 1)).toBe(true); // taken at once by the waiting receive
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: pid, value: 1 });
    const slow = await p.spawnMonitored("t:small", "t:host", 60_000);
    await expect.poll(() => runtime.processes().find((x) => x.pid === slow)?.state).toBe("suspended");
    await p.cancel(slow, "x", 60_000); // the CANCEL event ends its wait; it returns 4
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: slow, value: 4 });
  });

  it("a WASM process that does not read keeps at most max_mailbox messages; the rest are refused", async () => {
    const yaml = `${YAML}
  - name: sleeper
    kind: process.wasm
    fs: t:bin
    path: /sleeper.wasm
    hash: {{hash:wasm/sleeper.wasm}}
    method: _start
    imports: [wasi:cli, wasi:clocks, wasi:io]
    limits: { max_mailbox: 2 }
`;
    const { runtime } = await open(yaml, { ...BINARIES, "wasm/sleeper.wasm": "c/sleeper.core.wasm" });
    const p = runtime.process;
    const pid = await p.spawn("t:sleeper", "t:host", "60000");
    expect(await p.send(pid, "m", new Uint8Array([1]))).toBe(true);
    expect(await p.send(pid, "m", 2)).toBe(true);
    const full = p.send(pid, "m", 3);
    await expect(full).rejects.toBeInstanceOf(MailboxFullError);
    await expect(full).rejects.toMatchObject({ pid });
  });
});

describe("EXIT values as a guest receives them", () => {
  // echo(1) ends on its first event that is not a message, with that event's payload and
  // format as its result: the JSON text the guest was handed comes back parsed
  const exitSeenByGuest = async (value: unknown, fail = false) => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const guest = await p.spawnMonitored("t:echo", "t:host", 1);
    const actor = await runtime.spawnActor(
      fromProcess(async ({ receive }) => {
        await receive(); // ends when told to
        if (fail) throw new Error("it failed");
        return value;
      }),
    );
    runtimeInternals(runtime).table.monitor(guest, actor); // as the guest's own monitor would
    await p.send(actor, "go");
    const ev = (await p.receive({ match: (e) => e.type === "EXIT" && e.from === guest, timeout: 30_000 })) as { value: unknown };
    return ev.value;
  };

  it("integers beyond ±2^53 arrive as decimal strings, safe numbers as numbers", async () => {
    expect(await exitSeenByGuest({ big: 2 ** 60, neg: -(2 ** 55), small: 42, x: 1.5 })).toEqual({ big: "1152921504606846976", neg: "-36028797018963968", small: 42, x: 1.5 });
    expect(await exitSeenByGuest(12345678901234567890n)).toBe("12345678901234567890");
  });

  it("bytes arrive as an array of numbers, undefined as null, an error as {kind, message}", async () => {
    expect(await exitSeenByGuest(new Uint8Array([1, 2, 3]))).toEqual([1, 2, 3]);
    expect(await exitSeenByGuest(undefined)).toBeNull();
    expect(await exitSeenByGuest(null, true)).toEqual({ kind: "error", message: "it failed" });
  });
});

describe("components: wippy:process/process@0.1.0", () => {
  it("receive returns a message variant the guest echoes; none on timeout; CANCEL as its case", async () => {
    const { runtime } = await open(YAML, BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:probe", "t:host");
    await p.send(pid, "hello", { a: [1, 2] });
    expect(await p.receive(30_000)).toEqual({ type: "MESSAGE", from: pid, topic: "echo", payload: { a: [1, 2] } });
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: pid, value: 1 });
    const bytes = await p.spawnMonitored("t:probe", "t:host");
    await p.send(bytes, "b", new Uint8Array([9, 8]));
    expect(await p.receive(30_000)).toEqual({ type: "MESSAGE", from: bytes, topic: "echo", payload: new Uint8Array([9, 8]) });
    await p.receive(30_000);
    const cancelled = await p.spawnMonitored("t:probe", "t:host");
    await p.cancel(cancelled, "stop");
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: cancelled, value: 4 });
    const idle = await p.spawnMonitored("t:probe", "t:host");
    expect(await p.receive(30_000)).toEqual({ type: "EXIT", from: idle, value: 0 });
  });
});

describe("registry: grants", () => {
  const reg = (body: string) => {
    const project = makeProject(`version: "1.0"\nnamespace: t\nentries:\n  - { name: bin, kind: fs.directory, directory: ./wasm }\n${body}`, { "wasm/echo.wasm": "core/process-echo.wasm" });
    return loadRegistry({ root: project.root });
  };

  it("a guest importing wippy:process without the grant is refused at spawn, naming the interface", async () => {
    const { runtime } = await open(YAML.replace(entry("echo", "echo"), entry("echo", "echo", "echo", "imports: []")), BINARIES);
    const p = runtime.process;
    const pid = await p.spawnMonitored("t:echo", "t:host", 1);
    const ev = await p.receive(30_000);
    expect(ev).toMatchObject({ type: "EXIT", from: pid, error: { kind: "spawn" } });
    expect((ev as { error: { message: string } }).error.message).toMatch(/wippy:process/);
  });

  it("process.spawn needs wippy:process, names existing spawnable entries or ns:*", async () => {
    await expect(reg(`${entry("a", "echo", "echo", "imports: []\n    process: { spawn: [t:a] }")}`)).rejects.toThrow(/add "wippy:process" to imports/);
    await expect(reg(`${entry("a", "echo", "echo", "imports: [wippy:process]\n    process: { spawn: [t:nothing] }")}`)).rejects.toThrow(/refers to t:nothing, which is not defined/);
    await expect(reg(`${entry("a", "echo", "echo", "imports: [wippy:process]\n    process: { spawn: [t:bin] }")}`)).rejects.toThrow(/is a fs.directory/);
    await expect(reg(`${entry("a", "echo", "echo", "imports: [wippy:process]\n    process: { spawn: ['bad ns:*'] }")}`)).rejects.toThrow(/namespace "bad ns" is not valid/);
    const ok = await reg(`${entry("a", "echo", "echo", "imports: [wippy:process]\n    process: { spawn: [a, 'other.ns:*'] }")}`);
    expect((ok.entries.get("t:a") as { process?: unknown }).process).toEqual({ spawn: ["t:a", "other.ns:*"] });
  });

  it("a function.wasm entry cannot have wippy:process", async () => {
    await expect(reg(`  - { name: f, kind: function.wasm, fs: t:bin, path: /echo.wasm, hash: "sha256:${"0".repeat(64)}", method: echo, imports: [wippy:process] }`)).rejects.toThrow(/function.wasm entry has no pid or mailbox/);
  });
});
