// The CLI's line while a binary is prepared for its first run (src/cli/prepare-line.ts):
// nothing for a short preparation; past PREPARE_NOTICE_MS one line updating in place on a
// terminal (phase and share), one plain line elsewhere.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PREPARE_NOTICE_MS, prepareNotice } from "../src/cli/prepare-line.ts";
import { PrepareProgress } from "../src/wasm/prepare-progress.ts";

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, out: { isTTY, write: (t: string) => written.push(t) } };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the preparation line", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("says nothing when the preparation ends before the notice is due", async () => {
    const { written, out } = stream(true);
    const done = deferred();
    prepareNotice("ns:big", "/big.wasm", done.promise, new PrepareProgress(), out);
    await vi.advanceTimersByTimeAsync(PREPARE_NOTICE_MS - 1);
    done.resolve();
    await vi.advanceTimersByTimeAsync(PREPARE_NOTICE_MS * 2);
    expect(written).toEqual([]);
  });

  it("on a terminal: one line redrawn in place with the phase and share, then how long it took", async () => {
    const { written, out } = stream(true);
    const done = deferred();
    const progress = new PrepareProgress();
    prepareNotice("ns:big", "/big.wasm", done.promise, progress, out);
    progress.set("instrumenting", 0.1); // before the notice: not drawn
    expect(written).toEqual([]);
    await vi.advanceTimersByTimeAsync(PREPARE_NOTICE_MS);
    expect(written).toEqual(["\r\x1b[Kwippy: preparing ns:big (/big.wasm) for its first run: instrumenting 10%"]);
    progress.set("instrumenting", 0.2); // within the redraw interval: skipped
    expect(written).toHaveLength(1);
    vi.advanceTimersByTime(150);
    progress.set("instrumenting", 0.55);
    vi.advanceTimersByTime(150);
    progress.set("compiling");
    expect(written.slice(1)).toEqual([
      "\r\x1b[Kwippy: preparing ns:big (/big.wasm) for its first run: instrumenting 55%",
      "\r\x1b[Kwippy: preparing ns:big (/big.wasm) for its first run: compiling",
    ]);
    done.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(written.at(-1)).toMatch(/^\r\x1b\[Kwippy: preparing ns:big \(\/big\.wasm\) for its first run: done in \d+\.\d s, cached by hash for the next run\n$/);
    progress.set("compiling", 1); // after the end: nothing more
    expect(written).toHaveLength(4);
  });

  it("elsewhere (a pipe, a log): one plain line and no control characters", async () => {
    const { written, out } = stream(false);
    const done = deferred();
    const progress = new PrepareProgress();
    prepareNotice("ns:big", "/big.wasm", done.promise, progress, out);
    await vi.advanceTimersByTimeAsync(PREPARE_NOTICE_MS);
    progress.set("instrumenting", 0.5);
    vi.advanceTimersByTime(500);
    progress.set("compiling");
    done.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual(["wippy: preparing ns:big (/big.wasm) for its first run: transpiling and instrumenting; cached by hash after this\n"]);
  });
});
