// WIPPY_LOG belongs to a runtime: read from its environment when it opens
// (RuntimeOptions.env, else the process's), not once at import.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { ExitEvent } from "../src/index.ts";
import { openSupervised, SUP_YAML } from "./helpers/supervision.ts";

afterEach(() => void vi.restoreAllMocks());

async function runBehave(env: Record<string, string>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (String(chunk).startsWith("wippy: ")) {
      lines.push(String(chunk));
      return true;
    }
    return write(chunk, ...(rest as []));
  });
  const { runtime } = await openSupervised(SUP_YAML, { env });
  try {
    const pid = await runtime.process.spawnMonitored("t:behave", "t:hosts", 0);
    const exit = (await runtime.process.receive({ match: (e) => e.type === "EXIT" && e.from === pid })) as ExitEvent;
    expect(exit).toMatchObject({ value: 0 });
  } finally {
    await runtime.close(100);
    vi.restoreAllMocks();
  }
  return lines;
}

describe("WIPPY_LOG", () => {
  it("is the runtime's own setting: one runtime logs its loads at debug, another in the same process does not", async () => {
    expect(process.env.WIPPY_LOG).not.toBe("debug");
    expect(await runBehave({})).toEqual([]);
    const lines = await runBehave({ WIPPY_LOG: "debug" });
    expect(lines.join("")).toMatch(/^wippy: (instrumented|loaded cached instrumentation of) \/compute\.wasm \(sha256:[0-9a-f]{12}…, preempt\) in \d+ ms\n/);
  });
});
