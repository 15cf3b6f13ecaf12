// Bundles the `wippy` CLI with esbuild into two files of dist/cli/: wippy.js (what
// bin/wippy.js starts) and worker.js (the worker-thread entry, which
// src/threads/worker-thread.ts finds beside itself by URL). One file to read and compile
// (with Node's compile cache, bin/wippy.js) instead of some 280 modules is most of a warm
// start; what only some runs need is in the file too but evaluated only when first used
// (esbuild wraps a module reached by `import()` in a function called on that import).
//
//   npm run build   (tsc, then this)      node scripts/build-cli.ts
//
// Packages outside the bundle, loaded from node_modules only on the paths that need them:
// binaryen and jco (a cold cache), the Stately inspector (--inspect), by the `import()` in
// the source; and xstate (an actor or an inspector), ws (--inspect, --observe), NATS
// (--cluster) and the YAML parser (a registry to validate), by require() when the module
// importing them is first used. xstate is the
// same instance as the one a user's actor module imports (its ES entry re-exports its
// CommonJS one), so actor logic and the runtime share one copy.

import { build, transform, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeProcessTransitions } from "./build-machines.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE_DIR = join(ROOT, "dist", "cli");

/** Imported with `import()` in the source: left as it is. */
const EXTERNAL = ["binaryen", "@bytecodealliance/*", "@statelyai/inspect"];
/** Imported statically by modules that only some runs use: required when such a module first runs. */
const REQUIRED_ON_USE = ["xstate", "ws", "@nats-io/transport-node", "yaml"];

const REQUIRE = "__wippyRequire";
const BANNER = `const ${REQUIRE} = process.getBuiltinModule("node:module").createRequire(import.meta.url);`;

/**
 * Node's built-in modules load when first used, not when the bundle starts: `node:crypto`,
 * `node:v8` or `node:worker_threads` cost milliseconds each to load, and a run that never
 * needs one should not pay for it. Each built-in becomes an object of getters (one per
 * export, listed from the module itself at build time) that call `process.getBuiltinModule`
 * at the first access. Not an ES import either way: an ES import of a built-in reads every
 * export, and `node:http`'s include getters that load all of undici (some 60 ms).
 */
const builtinsOnFirstUse: Plugin = {
  name: "builtins-on-first-use",
  setup(b) {
    const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => (names.has(args.path) ? { path: args.path.replace(/^node:/, ""), namespace: "builtin" } : undefined));
    // an ES module re-exporting the getters, so that they are copied into one namespace object
    // per built-in rather than at every module importing it
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({ contents: `export * from ${JSON.stringify(`builtin-getters:${args.path}`)};`, loader: "js", resolveDir: ROOT }));
    b.onResolve({ filter: /^builtin-getters:/ }, (args) => ({ path: args.path.slice("builtin-getters:".length), namespace: "builtin-getters" }));
    b.onLoad({ filter: /.*/, namespace: "builtin-getters" }, (args) => {
      const id = JSON.stringify(`node:${args.path}`);
      const exports = Object.keys(process.getBuiltinModule(`node:${args.path}`) as object).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
      const getters = exports.map((k) => `  get ${k}() { return load().${k}; },`).join("\n");
      return { contents: `let m;\nconst load = () => (m ??= process.getBuiltinModule(${id}));\nmodule.exports = {\n${getters}\n};\n`, loader: "js" };
    });
  },
};

/**
 * A package in REQUIRED_ON_USE becomes a CommonJS module of the bundle that requires it:
 * esbuild evaluates that when the first module importing it is evaluated, so a package
 * imported only by lazily loaded code loads only with it. (Left external, its `import`
 * would be hoisted to the top of the bundle and load at every start.)
 */
const packagesOnUse: Plugin = {
  name: "packages-on-use",
  setup(b) {
    const filter = new RegExp(`^(${REQUIRED_ON_USE.map((p) => p.replace(/[/.]/g, "\\$&")).join("|")})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "package-on-use" }));
    b.onLoad({ filter: /.*/, namespace: "package-on-use" }, (args) => ({ contents: `module.exports = ${REQUIRE}(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

/**
 * What the bundle was built from, as one hash: the CLI keeps a validated registry only
 * for the build that validated it (src/cli/build-id.ts).
 */
function sourceHash(): string {
  const hash = createHash("sha256");
  for (const dir of ["src", "machines", "supervisors"]) {
    for (const file of (readdirSync(join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).sort()) {
      hash.update(`${dir}/${file}\0`).update(readFileSync(join(ROOT, dir, file))).update("\0");
    }
  }
  hash.update(readFileSync(join(ROOT, "package.json")));
  return hash.digest("hex").slice(0, 32);
}

/**
 * esbuild wraps each module that some `import()` reaches (and what it imports) in a function
 * run on first use: `var init_x = __esm({ "src/x.ts"() { … } })`. V8 compiles such a body
 * only when it is called, so it is missing from the compile cache and is compiled again at
 * every start. For the modules every start evaluates (`eager`), the body is written as a
 * parenthesized function expression instead: V8 compiles it with the file (its heuristic for
 * functions called at once), and the compile cache keeps it. The others stay lazy.
 */
export function compileModuleBodiesEagerly(code: string, eager: ReadonlySet<string>): { code: string; wrapped: number } {
  const lines = code.split("\n");
  let wrapped = 0;
  let open = false;
  for (let i = 0; i < lines.length; i++) {
    const body = /^var [\w$]+ = __esm\(\{$/.test(lines[i]!) ? /^  "([^"]+)"\(\) \{$/.exec(lines[i + 1] ?? "") : null;
    if (!open && body && eager.has(body[1]!)) {
      lines[i + 1] = `  ${JSON.stringify(body[1])}: (function () {`;
      open = true;
      wrapped++;
      i++;
    } else if (open && lines[i] === "  }" && lines[i + 1] === "});") {
      lines[i] = "  })";
      open = false;
    }
  }
  if (open) throw new Error("build-cli: an esbuild module wrapper did not end where expected; update compileModuleBodiesEagerly");
  return { code: lines.join("\n"), wrapped };
}

/** The modules an entry point evaluates when it starts: what it imports, not what it reaches only by `import()`. */
function evaluatedAtStart(metafile: Metafile, entryPoint: string): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imp of metafile.inputs[path]?.imports ?? []) if (imp.kind !== "dynamic-import" && !imp.external) visit(imp.path);
  };
  visit(entryPoint);
  return seen;
}

export async function buildCli(): Promise<void> {
  writeProcessTransitions();
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const common: BuildOptions = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    outdir: BUNDLE_DIR,
    external: EXTERNAL,
    plugins: [builtinsOnFirstUse, packagesOnUse],
    banner: { js: BANNER },
    sourcemap: "linked",
    logLevel: "warning",
    absWorkingDir: ROOT,
    define: { __WIPPY_BUILD__: JSON.stringify(sourceHash()) },
  };
  const result = await build({ ...common, entryPoints: { wippy: "src/cli/main.ts", worker: "src/threads/worker.ts" }, write: false, metafile: true });
  for (const file of result.outputFiles) {
    let text = file.text;
    if (file.path.endsWith(".js")) {
      const output = result.metafile.outputs[relative(ROOT, file.path)];
      if (!output?.entryPoint) throw new Error(`build-cli: no entry point for ${file.path} in esbuild's metafile`);
      const eager = compileModuleBodiesEagerly(text, evaluatedAtStart(result.metafile, output.entryPoint));
      // the rewrite must leave valid JavaScript (a module wrapper esbuild writes otherwise would fail here)
      await transform(eager.code, { format: "esm", loader: "js", logLevel: "silent" });
      text = eager.code;
    }
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, text);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildCli();
