import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // WASM processes are CPU-bound on a 2-core machine: keep files from starving each other.
    maxWorkers: 2,
  },
});
