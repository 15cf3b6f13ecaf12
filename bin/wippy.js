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
const { existsSync } = await import("node:fs");
const { fileURLToPath } = await import("node:url");
// From a source checkout run the TypeScript directly (Node 24 strips types);
// an installed package (under node_modules, where Node does not strip types) runs dist/.
const src = new URL("../src/cli/main.ts", import.meta.url);
const dist = new URL("../dist/src/cli/main.js", import.meta.url);
const fromSource = existsSync(src) && !fileURLToPath(src).includes("/node_modules/");
const { main } = await import(fromSource ? src.href : dist.href);
process.exitCode = await main(process.argv.slice(2));
