// The price of preemption on a CPU-bound guest: sieve(20 000 000) in C, run as a
// process (instrumented: fuel counters, preemption points, memory checks) against the
// same function in a bare, uninstrumented instance.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openProject, REPO, sample, stats, type Row } from "../lib.ts";

const N = 20_000_000;
const PRIMES = 1_270_607;
const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: trusted, kind: process.host, host: { preempt: false } }
  - { name: sieve, kind: process.wasm, fs: bin, path: /cpu.wasm, hash: "{{hash:wasm/cpu.wasm}}", method: sieve }
`;

export async function fuelCases(runs: number): Promise<Row[]> {
  const module = new WebAssembly.Module(readFileSync(join(REPO, "fixtures/c/cpu.core.wasm")));
  const bare = () => {
    const instance = new WebAssembly.Instance(module);
    (instance.exports._initialize as () => void)();
    const t = performance.now();
    if ((instance.exports.sieve as (n: number) => number)(N) !== PRIMES) throw new Error("sieve: wrong count");
    return performance.now() - t;
  };
  const rt = await openProject(YAML, { "wasm/cpu.wasm": "c/cpu.core.wasm" });
  try {
    const viaProcess = (host: string) => async () => {
      const t = performance.now();
      const r = await rt.process.exec("b:sieve", host, N);
      if (!("value" in r) || r.value !== PRIMES) throw new Error(`sieve process: ${JSON.stringify(r)}`);
      return performance.now() - t;
    };
    // in turn, round after round: the machine's load falls on all three alike
    const variants = [bare, viaProcess("b:hosts"), viaProcess("b:trusted")];
    for (const v of variants) await sample(0, v, 2);
    const [floor, preempt, trusted] = variants.map((): number[] => []);
    for (let i = 0; i < runs; i++) {
      floor!.push(await variants[0]!());
      preempt!.push(await variants[1]!());
      trusted!.push(await variants[2]!());
    }
    return [
      { name: "sieve(2·10⁷) in C, instrumented process (fuel + preemption)", unit: "ms", value: stats(preempt!), baselineName: "bare uninstrumented instance", baseline: stats(floor!) },
      { name: "sieve(2·10⁷) in C, `preempt: false` host (memory checks only)", unit: "ms", value: stats(trusted!), baselineName: "bare uninstrumented instance", baseline: stats(floor!) },
    ];
  } finally {
    await rt.close();
  }
}
