// Guest output waits for a slow sink (issue 13 item 7): a Stdio callback that returns a
// Promise holds the writing guest, in both WASI layers, and only that guest.

import { describe, expect, it } from "vitest";
import { OUTPUT_BUFFER } from "../src/wasi/output-queue.ts";
import { useRuntimes } from "./helpers/project.ts";

const open = useRuntimes("backpressure", 1000);

const YAML = `
namespace: t
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: spew, kind: process.wasm, fs: bin, path: /spew.wasm, hash: "{{hash:wasm/spew.wasm}}", method: spew, imports: [wasi:cli] }
  - { name: cat, kind: process.wasm, fs: bin, path: /cat.wasm, hash: "{{hash:wasm/cat.wasm}}", method: wasi:cli/run#run, imports: [wasi:cli, wasi:io, wasi:clocks, wasi:filesystem] }
`;
const BINARIES = { "wasm/spew.wasm": "core/spew.wasm", "wasm/cat.wasm": "c/cat.wasm" };

/**
 * A sink that takes each chunk a little later (a timer), as a slow pipe would, and
 * records how many bytes it was handed but had not taken yet, and how many calls overlapped.
 */
function slowSink() {
  const s = { chunks: 0, bytes: 0, unresolved: 0, maxUnresolved: 0, inCall: 0, maxInCall: 0, received: [] as Uint8Array[] };
  const write = (_pid: string, chunk: Uint8Array): Promise<void> => {
    s.unresolved += chunk.byteLength;
    s.maxUnresolved = Math.max(s.maxUnresolved, s.unresolved);
    s.maxInCall = Math.max(s.maxInCall, ++s.inCall);
    s.received.push(chunk.slice());
    return new Promise((resolve) =>
      setTimeout(() => {
        s.unresolved -= chunk.byteLength;
        s.inCall--;
        s.chunks++;
        s.bytes += chunk.byteLength;
        resolve();
      }, 1),
    );
  };
  return { state: s, write };
}

/** Counts timer turns: the event loop is free while the guest writes. */
function ticker() {
  const t = { ticks: 0 };
  const timer = setInterval(() => t.ticks++, 1);
  return { t, stop: () => clearInterval(timer) };
}

describe("guest output backpressure", () => {
  it("preview1: a guest writing forever to a slow stdout waits for each write; the event loop keeps turning", { timeout: 30_000 }, async () => {
    const sink = slowSink();
    const { runtime } = await open(YAML, BINARIES, { stdio: { stdout: sink.write } });
    const clock = ticker();
    try {
      const pid = await runtime.process.spawnMonitored("t:spew", "t:hosts", 1, 0, 0); // 4 KiB blocks, forever
      while (sink.state.chunks < 100) await new Promise((r) => setTimeout(r, 5));
      const ticksWhileWriting = clock.t.ticks;
      runtime.process.terminate(pid);
      expect((await runtime.process.receive(30_000))?.type).toBe("EXIT");
      // one block at a time: the guest never ran ahead of the sink
      expect(sink.state.maxUnresolved).toBe(4096);
      expect(sink.state.maxInCall).toBe(1);
      expect(ticksWhileWriting).toBeGreaterThan(10);
    } finally {
      clock.stop();
    }
  });

  it("a component (C cat over endless stdin) is held by a slow stdout the same way", { timeout: 120_000 }, async () => {
    const sink = slowSink();
    const block = new Uint8Array(64 * 1024).fill(0x61);
    let stdinChunks = 0;
    const { runtime } = await open(YAML, BINARIES, {
      stdio: {
        stdout: sink.write,
        stdin: async () => (stdinChunks++ < 16 ? block : null), // 1 MiB, then the end
      },
    });
    const clock = ticker();
    try {
      const result = await runtime.process.exec("t:cat", "t:hosts");
      expect(result).toEqual({ value: 0 });
      // blocking writes wait for the sink: never more than a stream's buffer handed over at once
      expect(sink.state.maxUnresolved).toBeLessThanOrEqual(OUTPUT_BUFFER);
      expect(sink.state.maxInCall).toBe(1);
      expect(sink.state.bytes).toBe(16 * block.byteLength);
      expect(Buffer.concat(sink.state.received).every((b) => b === 0x61)).toBe(true);
      expect(clock.t.ticks).toBeGreaterThan(10);
    } finally {
      clock.stop();
    }
  });

  it("a sink that fails is EIO for the writing guest, not a crash of the runtime", async () => {
    const { runtime } = await open(YAML, BINARIES, { stdio: { stdout: () => Promise.reject(new Error("gone")) } });
    // spew returns -errno on the first failed write: EIO is 29
    expect(await runtime.process.exec("t:spew", "t:hosts", 1, 3, 0)).toEqual({ value: -29 });
  });
});
