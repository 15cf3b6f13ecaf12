// `wippy run greet Ada` as a user types it (cache warm), against starting Node itself.

import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, sample, stats, type Row } from "../lib.ts";

export async function cliCases(runs: number): Promise<Row[]> {
  const env = { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-bench-cli-")) };
  const time = (args: string[], cwd = REPO) => () => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
    return performance.now() - t;
  };
  const wippy = await sample(runs, time([join(REPO, "bin/wippy.js"), "run", "greet", "Ada"], join(REPO, "examples/hello")));
  const node = await sample(runs, time(["-e", "0"]));
  return [{ name: "`wippy run greet Ada` (warm cache), whole OS process", unit: "ms", value: stats(wippy), baselineName: "`node -e 0`", baseline: stats(node) }];
}
