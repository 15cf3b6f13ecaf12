// npm run bench [-- --runs N] [-- --only spawn,fuel,concurrency,cli,guests,bursts,lua,workers,cluster,large]
// Prints one table (median, min–max, and the ratio to a baseline measured in the same
// run) and writes it to bench/RESULTS.md. Not a test: nothing here passes or fails.
// Rows that report RSS measure each side in a fresh Node process (bench/child.ts).

import { burstCases } from "./cases/bursts.ts";
import { cliCases } from "./cases/cli.ts";
import { clusterCases } from "./cases/cluster.ts";
import { concurrencyCases } from "./cases/concurrency.ts";
import { fuelCases } from "./cases/fuel.ts";
import { guestCases } from "./cases/guests.ts";
import { largeCases } from "./cases/large.ts";
import { luaCases } from "./cases/lua.ts";
import { spawnCases } from "./cases/spawn.ts";
import { workerCases } from "./cases/workers.ts";
import { machine, table, writeResults, type Row } from "./lib.ts";

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const runs = Number(opt("runs") ?? 5);
const only = opt("only")?.split(",");

const CASES: Record<string, (runs: number) => Promise<Row[]>> = {
  spawn: spawnCases,
  fuel: fuelCases,
  concurrency: concurrencyCases,
  cli: cliCases,
  guests: guestCases,
  bursts: burstCases,
  lua: luaCases,
  workers: workerCases,
  cluster: clusterCases,
  large: largeCases,
};

console.log(`bench: ${runs} runs each on ${machine()}`);
const rows: Row[] = [];
for (const [name, run] of Object.entries(CASES)) {
  if (only && !only.includes(name)) continue;
  const started = performance.now();
  rows.push(...(await run(runs)));
  console.log(`  ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const notes = rows.filter((r) => r.note).map((r) => `${r.name}: ${r.note}`);
console.log(`\n${table(rows)}\n`);
for (const n of notes) console.log(n);
if (!only) {
  writeResults(rows, notes);
  console.log("\nwritten to bench/RESULTS.md");
}
