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
const { existsSync, readdirSync, statSync } = await import("node:fs");
const { join } = await import("node:path");
const { fileURLToPath } = await import("node:url");
// dist/ (built by `npm install` / `npm test`) starts ~4× faster than stripping the types
// of src/ at every run. In a source checkout src/ is used when it is newer than dist/,
// so an edit shows at once; an installed package (under node_modules) always runs dist/.
const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src", "cli", "main.ts");
const dist = join(root, "dist", "src", "cli", "main.js");
function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
function useSource() {
  if (!existsSync(src) || root.includes("/node_modules/")) return false;
  if (!existsSync(dist)) return true;
  const built = statSync(dist).mtimeMs;
  return ["src", "machines", "supervisors"].some((d) => existsSync(join(root, d)) && newestMtime(join(root, d)) > built);
}
const { main } = await import(useSource() ? new URL(`file://${src}`).href : new URL(`file://${dist}`).href);
process.exitCode = await main(process.argv.slice(2));
