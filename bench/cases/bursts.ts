// A burst of component starts must not hold the event loop: 200 C components that
// sleep 300 ms each, started at once, while a 10 ms timer runs. The figure is the share
// of the timer's ticks that fired (all of them: 100 %).

import { openProject, sample, stats, type Row } from "../lib.ts";

const YAML = `
namespace: b
entries:
  - { name: bin, kind: fs.directory, directory: ./wasm }
  - { name: hosts, kind: process.host }
  - { name: sleeper, kind: process.wasm, fs: bin, path: /sleeper.wasm, hash: "{{hash:wasm/sleeper.wasm}}", method: "wasi:cli/run#run", imports: [wasi:cli, wasi:clocks, wasi:io, wasi:filesystem] }
`;
const N = 200;
const TICK_MS = 10;

export async function burstCases(runs: number): Promise<Row[]> {
  const rt = await openProject(YAML, { "wasm/sleeper.wasm": "c/sleeper.wasm" });
  try {
    await rt.process.exec("b:sleeper", "b:hosts", "1"); // transpiled and compiled once
    let wallMs = 0;
    const share = await sample(runs, async () => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, TICK_MS);
      const t = performance.now();
      const results = await Promise.all(Array.from({ length: N }, () => rt.process.exec("b:sleeper", "b:hosts", "300")));
      const wall = performance.now() - t;
      clearInterval(timer);
      if (!results.every((r) => "value" in r && r.value === 0)) throw new Error("a component sleeper failed");
      wallMs = wall;
      return (100 * ticks) / Math.floor(wall / TICK_MS);
    });
    return [
      {
        name: `${N} C components started at once (sleep 300 ms): ${TICK_MS} ms timer ticks that fired`,
        unit: "%",
        value: stats(share),
        baselineName: "every tick (100 %)",
        baseline: { median: 100, min: 100, max: 100 },
        higherIsBetter: true,
        note: `wall of the last run: ${wallMs.toFixed(0)} ms`,
      },
    ];
  } finally {
    await rt.close();
  }
}
