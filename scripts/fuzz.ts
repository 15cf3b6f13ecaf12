// npm run fuzz [-- --seed N] [-- --registry N] [-- --open N] [-- --wasm N]
// Seeded, reproducible fuzzing of the registry (mutated YAML) and of load + spawn
// (mutated WASM). Prints what each case ended as; exits 1 on any crash or unclear error.

import { fuzzRegistry, fuzzRegistrySpawn } from "../test/fuzz/registry-fuzz.ts";
import { fuzzWasm } from "../test/fuzz/wasm-fuzz.ts";

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const seed = opt("seed", 1);
const registryCases = opt("registry", 20_000);
const wasmCases = opt("wasm", 10_000);

let t = performance.now();
const reg = fuzzRegistry(seed, registryCases);
console.log(`registry: ${registryCases} cases (seed ${seed}) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${reg.valid} valid, ${reg.invalid} with issues, ${reg.failures.length} failures`);
for (const f of reg.failures.slice(0, 10)) console.log(`  case ${f.case}: ${f.problem}\n${f.input.split("\n").map((l) => `    | ${l}`).join("\n")}`);

t = performance.now();
const opened = fuzzRegistrySpawn(seed, opt("open", 300));
const spawnRun = await opened;
console.log(`registry → runtime: ${spawnRun.opened} valid mutants opened, ${spawnRun.spawned} processes spawned in ${((performance.now() - t) / 1000).toFixed(1)} s, ${spawnRun.failures.length} failures`);
for (const f of spawnRun.failures.slice(0, 10)) console.log(`  ${f}`);

t = performance.now();
const wasm = await fuzzWasm(seed, wasmCases);
console.log(`wasm: ${wasmCases} cases (seed ${seed}) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify(wasm.kinds)}, ${wasm.failures.length} failures`);
for (const f of wasm.failures.slice(0, 20)) console.log(`  ${f}`);
process.exitCode = reg.failures.length + spawnRun.failures.length + wasm.failures.length > 0 ? 1 : 0;
