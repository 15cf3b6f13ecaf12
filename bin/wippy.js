#!/usr/bin/env node
// Entry point of the `wippy` CLI. Needs Node.js 24+ (JavaScript Promise
// Integration); `npx wippy` / `npm run` use the Node 24 this package brings.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `wippy: Node.js ${process.versions.node} is too old; wippy needs Node.js 24 or newer. ` +
      "Run it as `npx wippy ...` from the project so the bundled Node 24 is used.\n",
  );
  process.exit(1);
}
// process.getBuiltinModule rather than import: an ES import of a built-in reads all its exports
const { existsSync, mkdirSync, readdirSync, statSync } = process.getBuiltinModule("node:fs");
const { join } = process.getBuiltinModule("node:path");
const { homedir } = process.getBuiltinModule("node:os");
const { enableCompileCache } = process.getBuiltinModule("node:module");

const root = join(import.meta.dirname, "..");
// V8's compiled code of wippy (and of cached transpiled components), kept in wippy's own cache
// folder, makes a warm start skip most of the compiling. That folder must be private, as the
// runtime requires of it (src/wasm/cache-trust.ts): code read from a folder others can write
// would run as this user. When it is not, Node compiles afresh and the runtime says why.
// The same rule as defaultCacheDir() in src/wasm/transpile-cache.ts, written again because this
// runs before it is known whether src/ or dist/ will load; keep the two in step.
function cacheDir() {
  const xdg = process.env.XDG_CACHE_HOME;
  return process.env.WIPPY_CACHE_DIR || join(xdg ? xdg : join(homedir(), ".cache"), "wippy");
}
function privateFolder(dir) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    return process.platform === "win32" || (st.uid === process.getuid() && (st.mode & 0o022) === 0);
  } catch {
    return false;
  }
}
const compiled = join(cacheDir(), "node-compile-cache");
if (process.env.NODE_COMPILE_CACHE === undefined && privateFolder(cacheDir()) && privateFolder(compiled)) enableCompileCache(compiled);

// dist/cli/wippy.js (the bundle `npm run build` writes) starts several times faster than
// dist/src/ (tsc's modules), and far faster than stripping the types of src/ at every run.
// In a source checkout src/ is used when it is newer than the build, so an edit shows at
// once; an installed package (under node_modules) always runs what was built.
const src = join(root, "src", "cli", "main.ts");
const built = [join(root, "dist", "cli", "wippy.js"), join(root, "dist", "src", "cli", "main.js")].find((f) => existsSync(f));
function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`; // not path.join: some 150 files, at every start
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
function useSource() {
  if (!existsSync(src) || root.includes("/node_modules/")) return false;
  if (built === undefined) return true;
  const builtAt = statSync(built).mtimeMs;
  return ["src", "machines", "supervisors"].some((d) => existsSync(join(root, d)) && newestMtime(join(root, d)) > builtAt);
}
const { main } = await import(useSource() || built === undefined ? new URL(`file://${src}`).href : new URL(`file://${built}`).href);
process.exitCode = await main(process.argv.slice(2));
