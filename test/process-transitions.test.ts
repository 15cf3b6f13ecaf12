// The lifecycle table a process steps through when nobody inspects it
// (src/generated/process-transitions.ts) is written at build time from the machine in
// machines/process.ts; it must still be what XState works out from that machine.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deriveProcessInitialState, deriveProcessTransitions } from "../machines/process.ts";
import { processInitialState, processTransitions } from "../src/generated/process-transitions.ts";
import { PROCESS_TRANSITIONS_FILE, processTransitionsSource } from "../scripts/build-machines.ts";

describe("the generated process transition table", () => {
  it("equals the transitions and driver actions XState computes from the machine (npm run build regenerates it)", () => {
    expect(processTransitions).toEqual(deriveProcessTransitions());
    expect(processInitialState).toBe(deriveProcessInitialState());
  });

  it("is the file the build script writes, as committed", () => {
    expect(readFileSync(PROCESS_TRANSITIONS_FILE, "utf8")).toBe(processTransitionsSource());
  });

  it("covers every state, and a final state takes no event", () => {
    expect(Object.keys(processTransitions).sort()).toEqual(["closed", "init", "stepping", "suspended"]);
    expect(processTransitions.closed).toEqual({});
    for (const state of ["init", "stepping", "suspended"] as const) expect(processTransitions[state].CLOSE).toEqual({ target: "closed", actions: ["free"] });
  });
});
