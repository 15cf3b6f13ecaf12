import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 60_000,
    // expect.poll waits for what a process does next: on a worker thread (the second pass) a host's
    // first spawn also waits for its workers to start, which on a busy machine takes over a second
    expect: { poll: { timeout: 30_000 } },
    hookTimeout: 60_000,
    // WASM processes are CPU-bound on a 2-core machine: keep files from starving each other.
    maxWorkers: 2,
  },
});
