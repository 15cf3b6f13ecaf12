// `wippy run greet Ada` as a user types it (cache warm), against starting Node itself: the
// real bin/wippy.js, which runs the bundle `npm run build` wrote (dist/cli/wippy.js), with
// its caches warm (transpiled component, Node's compiled code, the validated registry)
// from a discarded first run. Both commands take turns, so the machine's load falls on both.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inTurn, REPO, stats, type Row } from "../lib.ts";

/** Does bin/wippy.js run the bundle (built after the last change to the sources)? */
function runsBundle(): boolean {
  const bundle = join(REPO, "dist", "cli", "wippy.js");
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  return ["src", "machines", "supervisors"].every((dir) =>
    readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true }).every((e) => !e.isFile() || statSync(join(e.parentPath, e.name)).mtimeMs <= built),
  );
}

export async function cliCases(runs: number): Promise<Row[]> {
  const env = { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-bench-cli-")) };
  const time = (args: string[], cwd = REPO) => async () => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
    return performance.now() - t;
  };
  const [wippy, node] = await inTurn(runs, [time([join(REPO, "bin/wippy.js"), "run", "greet", "Ada"], join(REPO, "examples/hello")), time(["-e", "0"])]);
  return [{
    name: "`wippy run greet Ada` (warm cache), whole OS process",
    unit: "ms",
    value: stats(wippy!),
    baselineName: "`node -e 0`",
    baseline: stats(node!),
    ...(runsBundle() ? {} : { note: "bin/wippy.js ran src/, not the bundle: run npm run build first (npm run bench does)" }),
  }];
}
