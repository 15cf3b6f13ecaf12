// Fuzzing in CI (a few thousand cases; `npm run fuzz` runs 10 000+ of each): mutated
// registries and mutated binaries end as clear errors or EXITs, never as a crash.

import { describe, expect, it } from "vitest";
import { fuzzRegistry, fuzzRegistrySpawn } from "./fuzz/registry-fuzz.ts";
import { fuzzWasm } from "./fuzz/wasm-fuzz.ts";

describe("fuzz", () => {
  it("3 000 mutated registries: entries or one-line issues naming the file, nothing thrown", () => {
    const { failures, valid, invalid } = fuzzRegistry(20261125, 3000);
    console.log(`registry fuzz: ${valid} valid, ${invalid} with issues, ${failures.length} failures`);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(valid).toBeGreaterThan(0); // the mutations leave some files valid: they reach the entries too
    expect(invalid).toBeGreaterThan(0);
  });

  it("mutated registries that still validate are opened and every entry spawned: one EXIT each", { timeout: 180_000 }, async () => {
    const { failures, opened, spawned } = await fuzzRegistrySpawn(20261125, 30);
    console.log(`registry spawn fuzz: ${opened} registries opened, ${spawned} processes, ${failures.length} failures`);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(opened).toBe(30);
    expect(spawned).toBeGreaterThan(0);
  });

  it("1 000 mutated binaries spawned: one EXIT each, one-line errors, no unhandled rejection", { timeout: 180_000 }, async () => {
    const { failures, kinds } = await fuzzWasm(20261125, 1000);
    console.log(`wasm fuzz: ${JSON.stringify(kinds)}, ${failures.length} failures`);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(Object.values(kinds).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(kinds.spawn).toBeGreaterThan(0);
    expect(kinds.value).toBeGreaterThan(0); // some mutants still run to the end
  });
});
