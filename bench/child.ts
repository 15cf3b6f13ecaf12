// node bench/child.ts NAME RUNS: one measurement of a bench case in a fresh Node process
// (so that its peak RSS is its own, not what an earlier row left in the heap), printed
// as JSON for inChild (lib.ts).

import { concurrencyChildren } from "./cases/concurrency.ts";
import { spawnChildren } from "./cases/spawn.ts";

const [name, runs] = process.argv.slice(2);
const measure = { ...spawnChildren, ...concurrencyChildren }[name ?? ""];
if (!measure) throw new Error(`bench/child.ts: no measurement named ${name}; one of ${Object.keys({ ...spawnChildren, ...concurrencyChildren }).join(", ")}`);
process.stdout.write(JSON.stringify(await measure(Number(runs ?? 1))));
process.exit(0);
