import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRegistry } from "../src/registry/index.ts";
import { REPO, sha256 } from "./helpers/project.ts";

const examples = readdirSync(join(REPO, "examples")).filter((d) => statSync(join(REPO, "examples", d)).isDirectory());

describe("examples", () => {
  it.each(examples)("%s: every process.wasm / function.wasm hash matches its binary", async (name) => {
    const registry = await loadRegistry({ root: join(REPO, "examples", name), env: {} });
    const wasm = [...registry.entries.values()].filter((e) => e.kind === "process.wasm" || e.kind === "function.wasm");
    expect(wasm.length).toBeGreaterThan(0);
    for (const e of wasm) {
      if (e.kind !== "process.wasm" && e.kind !== "function.wasm") continue;
      const dir = registry.entries.get(e.fs);
      if (dir?.kind !== "fs.directory") throw new Error(`${e.id}: fs is not a directory`);
      const file = join(dir.directory, e.path.replace(/^\/+/, ""));
      expect(readFileSync(file).length).toBeGreaterThan(0);
      expect(`${e.id} ${sha256(file)}`).toBe(`${e.id} ${e.hash}`);
    }
  });
});
