// Bundles the `wippy` CLI with esbuild into dist/cli/: wippy.js (what bin/wippy.js starts)
// and worker.js (the worker-thread entry, which src/threads/worker-thread.ts finds beside
// itself by URL), plus chunks for what only some runs load (observer, inspector, cluster).
// One file to read and compile instead of some 280 modules is most of a warm start.
//
//   npm run build   (tsc, then this)      node scripts/build-cli.ts
//
// Kept out of the bundle and imported from node_modules only on the paths that need them:
// binaryen and jco (a cold cache), NATS (--cluster), ws and the Stately inspector
// (--inspect, --observe), and xstate, so that the logic of a user's actor module and the
// runtime share one copy of it.

import { build, type BuildOptions, type Plugin } from "esbuild";
import { builtinModules } from "node:module";
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeProcessTransitions } from "./build-machines.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE_DIR = join(ROOT, "dist", "cli");

const EXTERNAL = ["binaryen", "@bytecodealliance/*", "@nats-io/*", "ws", "@statelyai/inspect", "xstate"];

/**
 * Node's built-in modules load when first used, not when the bundle starts: `node:crypto`,
 * `node:https` or `node:worker_threads` cost milliseconds each to load, and a run that never
 * hashes, fetches or starts a worker should not pay for them. Each built-in becomes an object
 * of getters (one per export, listed from the module itself at build time) that call
 * `process.getBuiltinModule` at the first access. Not an ES import either way: an ES import
 * of a built-in reads every export, and `node:http`'s include getters that load all of
 * undici (some 60 ms).
 */
const builtinsOnFirstUse: Plugin = {
  name: "builtins-on-first-use",
  setup(b) {
    const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => (names.has(args.path) ? { path: args.path.replace(/^node:/, ""), namespace: "builtin" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => {
      const id = JSON.stringify(`node:${args.path}`);
      const exports = Object.keys(process.getBuiltinModule(`node:${args.path}`) as object).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
      const getters = exports.map((k) => `  get ${k}() { return load().${k}; },`).join("\n");
      return { contents: `let m;\nconst load = () => (m ??= process.getBuiltinModule(${id}));\nmodule.exports = {\n${getters}\n};\n`, loader: "js" };
    });
  },
};

export async function buildCli(): Promise<void> {
  writeProcessTransitions();
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const common: BuildOptions = {
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node24",
    outdir: BUNDLE_DIR,
    external: EXTERNAL,
    plugins: [builtinsOnFirstUse],
    sourcemap: "linked",
    logLevel: "warning",
    absWorkingDir: ROOT,
  };
  // two builds, so the CLI's start reads no chunk made for the worker
  await build({ ...common, entryPoints: { wippy: "src/cli/main.ts" } });
  await build({ ...common, entryPoints: { worker: "src/threads/worker.ts" } });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildCli();
