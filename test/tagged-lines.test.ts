// TaggedLines (the `wippy run` log of guest stderr): lines per pid, a partial line
// capped and printed as it stands, each chunk looked at once (issue 13 item 7).

import { describe, expect, it } from "vitest";
import { MAX_PENDING_LINE, TaggedLines } from "../src/cli/tagged-lines.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function collect() {
  const lines: [string, string][] = [];
  const tagged = new TaggedLines((pid, line) => void lines.push([pid, line]));
  return { lines, tagged };
}

describe("TaggedLines", () => {
  it("splits each pid's output into lines, however the chunks fall", () => {
    const { lines, tagged } = collect();
    tagged.write("a", bytes("one\ntw"));
    tagged.write("b", bytes("other\n"));
    tagged.write("a", bytes("o\nthree\n\nfour"));
    tagged.flush();
    expect(lines).toEqual([
      ["a", "one"],
      ["b", "other"],
      ["a", "two"],
      ["a", "three"],
      ["a", ""],
      ["a", "four"],
    ]);
  });

  it("keeps a character split across two chunks of one pid whole, with another pid writing between", () => {
    const { lines, tagged } = collect();
    const e = bytes("é\n"); // 0xC3 0xA9 0x0A
    tagged.write("a", e.subarray(0, 1));
    tagged.write("b", bytes("x\n"));
    tagged.write("a", e.subarray(1));
    expect(lines).toEqual([
      ["b", "x"],
      ["a", "é"],
    ]);
  });

  it("prints a line that never ends at the cap, as a partial line, and keeps no more than the cap waiting", () => {
    const { lines, tagged } = collect();
    const chunk = bytes("x".repeat(1000));
    const n = 1000; // 1 000 000 characters, no newline
    let maxPending = 0;
    for (let i = 0; i < n; i++) {
      tagged.write("a", chunk);
      maxPending = Math.max(maxPending, tagged.pendingLength("a"));
    }
    // one piece per MAX_PENDING_LINE characters: each chunk was looked at once, not re-split with all before it
    expect(lines).toHaveLength(Math.floor((n * 1000) / MAX_PENDING_LINE));
    expect(lines.every(([pid, line]) => pid === "a" && line.length === MAX_PENDING_LINE)).toBe(true);
    expect(maxPending).toBeLessThan(MAX_PENDING_LINE);
    tagged.flush();
    expect(lines.map(([, l]) => l).join("")).toBe("x".repeat(n * 1000));
  });

  it("a chunk larger than the cap with no newline becomes partial lines; only what waits is capped", () => {
    const { lines, tagged } = collect();
    tagged.write("a", bytes("y".repeat(2 * MAX_PENDING_LINE + 5)));
    expect(lines.map(([, l]) => l.length)).toEqual([MAX_PENDING_LINE, MAX_PENDING_LINE]);
    expect(tagged.pendingLength("a")).toBe(5);
    tagged.write("a", bytes("\nnext\n"));
    expect(lines.map(([, l]) => l)).toEqual(["y".repeat(MAX_PENDING_LINE), "y".repeat(MAX_PENDING_LINE), "yyyyy", "next"]);
    expect(tagged.pendingLength("a")).toBe(0);
  });
});
