// npm run soak [-- --cycles N]: spawn → EXIT cycles of a core module (1 000 000 by
// default, 1 000 at a time), the heap measured after GC at the start and every 100 000
// cycles. Passes when the heap ends within 10 % of its baseline; the result goes into
// bench/RESULTS.md (section "Soak"). Not part of CI (it takes a few minutes).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { machine, openProject, REPO } from "./lib.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc (npm run soak does)");

const argv = process.argv.slice(2);
const i = argv.indexOf("--cycles");
const CYCLES = i >= 0 ? Number(argv[i + 1]) : 1_000_000;
const BATCH = 1000;

const rt = await openProject(
  `namespace: s
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: answer, kind: process.wasm, fs: bin, path: /compute.wasm, hash: "{{hash:wasm/compute.wasm}}", method: answer }
`,
  { "wasm/compute.wasm": "core/compute.wasm" },
);
const proc = rt.process;

async function batch(): Promise<void> {
  for (let k = 0; k < BATCH; k++) void proc.spawnMonitored("s:answer", "s:hosts");
  for (let k = 0; k < BATCH; k++) {
    const ev = await proc.receive(10_000);
    if (ev?.type !== "EXIT" || !("value" in ev) || ev.value !== 42) throw new Error(`unexpected: ${JSON.stringify(ev)}`);
  }
}

const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

for (let k = 0; k < 10; k++) await batch(); // warm up: loader, JIT, pools
const baseline = heap();
const samples: string[] = [];
const started = performance.now();
for (let done = 0; done < CYCLES; done += BATCH) {
  await batch();
  if ((done + BATCH) % 100_000 === 0) {
    const h = heap();
    samples.push(`${(done + BATCH).toLocaleString("en")}: ${(h / 2 ** 20).toFixed(1)} MiB`);
    console.log(`${(done + BATCH).toLocaleString("en")} cycles, heap ${(h / 2 ** 20).toFixed(1)} MiB (baseline ${(baseline / 2 ** 20).toFixed(1)}), ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
}
const seconds = (performance.now() - started) / 1000;
const end = heap();
const growth = (end - baseline) / baseline;
if (rt.processes().length !== 0) throw new Error(`${rt.processes().length} processes left`);
await rt.close();

const verdict = Math.abs(growth) <= 0.1 ? "within 10 %: pass" : "MORE than 10 %: fail";
const line = `${CYCLES.toLocaleString("en")} spawn → EXIT cycles in ${seconds.toFixed(0)} s (${((seconds * 1e6) / CYCLES).toFixed(1)} µs each, ${BATCH} at a time); heap after GC ${(baseline / 2 ** 20).toFixed(1)} MiB → ${(end / 2 ** 20).toFixed(1)} MiB (${(growth * 100).toFixed(1)} %, ${verdict})`;
console.log(line);

const results = join(REPO, "bench", "RESULTS.md");
let text = "";
try {
  text = readFileSync(results, "utf8");
} catch {
  text = "# Bench results\n";
}
text = text.replace(/\n## Soak\n[\s\S]*$/, "\n");
text = `${text.trimEnd()}\n\n## Soak\n\n\`npm run soak\` on ${new Date().toISOString().slice(0, 10)}, ${machine()}:\n${line}.\nHeap every 100 000 cycles: ${samples.join("; ")}.\n`;
writeFileSync(results, text);
process.exitCode = Math.abs(growth) <= 0.1 ? 0 : 1;
