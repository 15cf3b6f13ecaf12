// Bench plumbing: run a measurement several times, keep median/min/max, and print
// one table in which every figure stands next to a baseline measured in the same run.

import { cpus, totalmem } from "node:os";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Runtime, type RuntimeOptions } from "../src/index.ts";
import { captureStdio, makeProject } from "../test/helpers/project.ts";

export const REPO = fileURLToPath(new URL("../", import.meta.url));

export interface Stats {
  median: number;
  min: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

export interface Row {
  name: string;
  unit: string;
  value: Stats;
  baselineName: string;
  baseline?: Stats;
  /** When the ratio reads better the other way round (throughput: higher is better). */
  higherIsBetter?: boolean;
  /**
   * Value and baseline are times per item, but the ratio is of rates (items per second):
   * ours over the baseline's, so 0.05× means a twentieth of the baseline's rate.
   */
  rateRatio?: boolean;
  /** Peak RSS above the idle process (MiB), of the row and of its baseline, measured in the same run. */
  rss?: { value?: number; baseline?: number };
  note?: string;
}

/** Runs `fn` `runs` times after `warmup` discarded runs; `fn` returns one sample. */
export async function sample(runs: number, fn: () => Promise<number> | number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/** Each measurement in turn, one discarded warm-up each, then `runs` rounds (the machine's load falls on all alike). */
export async function inTurn(runs: number, measures: (() => Promise<number>)[]): Promise<number[][]> {
  for (const m of measures) await m();
  const out = measures.map((): number[] => []);
  for (let i = 0; i < runs; i++) for (const [k, m] of measures.entries()) out[k]!.push(await m());
  return out;
}

const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const fmtStats = (s: Stats) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

export function ratio(row: Row): string {
  if (!row.baseline) return "—";
  if (row.rateRatio) return `${(row.baseline.median / row.value.median).toFixed(3)}× the rate`;
  const r = row.higherIsBetter ? row.baseline.median / row.value.median : row.value.median / row.baseline.median;
  return `${r.toFixed(2)}×`;
}

const fmtRss = (rss: Row["rss"]): string => {
  if (!rss) return "—";
  const mib = (v: number | undefined) => (v === undefined ? "—" : `${v.toFixed(0)}`);
  return `${mib(rss.value)} / ${mib(rss.baseline)} MiB`;
};

export function table(rows: Row[]): string {
  const head = "| benchmark | unit | median (min–max) | baseline | baseline median (min–max) | ratio | peak RSS (row / baseline) |";
  const lines = [head, "| --- | --- | --- | --- | --- | --- | --- |"];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.unit} | ${fmtStats(r.value)} | ${r.baselineName} | ${r.baseline ? fmtStats(r.baseline) : "—"} | ${ratio(r)} | ${fmtRss(r.rss)} |`);
  }
  return lines.join("\n");
}

/** Peak RSS above where it was at construction (MiB): sampled on a timer and wherever `mark` is called. */
export class RssPeak {
  readonly #base = process.memoryUsage.rss();
  #peak = 0;
  #timer = setInterval(() => this.mark(), 10);
  mark(): void {
    this.#peak = Math.max(this.#peak, process.memoryUsage.rss() - this.#base);
  }
  /** Stops sampling; the peak in MiB. */
  stop(): number {
    this.mark();
    clearInterval(this.#timer);
    return this.#peak / 2 ** 20;
  }
}

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
}

export function writeResults(rows: Row[], notes: string[]): string {
  const text = [
    "# Bench results",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} with \`npm run bench\`.`,
    "Ratio: the figure over its baseline (for throughput, the baseline over the figure), so below 1 is faster than the baseline;",
    "`× the rate` compares rates instead: ours over the baseline's, so below 1 is slower. Peak RSS: above the idle process, each side measured in processes of its own.",
    "",
    table(rows),
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
  const file = join(REPO, "bench", "RESULTS.md");
  // keep the sections under the table (dated comparisons, and the soak that npm run soak
  // writes: it takes minutes, so it is not rerun here)
  let sections = "";
  try {
    sections = /\n## [\s\S]*$/.exec(readFileSync(file, "utf8"))?.[0] ?? "";
  } catch {
    // first run
  }
  writeFileSync(file, sections ? `${text.trimEnd()}\n${sections}` : text);
  return text;
}

/** A throwaway project (fixture binaries + YAML) and a compile cache of its own. */
export interface BenchProject {
  root: string;
  cacheDir: string;
}

export function benchProject(yaml: string, binaries: Record<string, string>): BenchProject {
  return { root: makeProject(yaml, binaries).root, cacheDir: mkdtempSync(join(tmpdir(), "wippy-bench-cache-")) };
}

/** `project` opened as a Runtime; `extra` adds options (a cluster, say). */
export function openAt(project: BenchProject, extra: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  return Runtime.open({ root: project.root, cacheDir: project.cacheDir, stdio: captureStdio().stdio, ...extra });
}

/** A throwaway project (fixture binaries + YAML) opened as a Runtime. */
export async function openProject(yaml: string, binaries: Record<string, string>): Promise<Runtime> {
  return openAt(benchProject(yaml, binaries));
}

/** Samples of one measurement and the peak RSS above where it started (MiB). */
export interface Measured {
  samples: number[];
  rssMiB: number;
}

/** Runs the measurement `name` of bench/child.ts in a fresh Node process. */
export function inChild(name: string, runs: number): Measured {
  const r = spawnSync(process.execPath, [join(REPO, "bench", "child.ts"), name, String(runs)], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) throw new Error(`bench child ${name}: ${r.error?.message ?? r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Measured;
}

/** One-run children of each measurement in turn, `runs` rounds (the machine's load falls on all alike). */
export function alternating(names: string[], runs: number): Measured[] {
  const out = names.map((): Measured => ({ samples: [], rssMiB: 0 }));
  for (let i = 0; i < runs; i++) {
    for (const [k, name] of names.entries()) {
      const m = inChild(name, 1);
      out[k]!.samples.push(...m.samples);
      out[k]!.rssMiB = Math.max(out[k]!.rssMiB, m.rssMiB);
    }
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Collects garbage where it can (`--expose-gc`) and lets freed memory settle. */
export async function settle(): Promise<void> {
  gc?.();
  await new Promise((r) => setTimeout(r, 50));
  gc?.();
}

/** What the figures below include when the bench runs without --expose-gc. */
export const GARBAGE_NOTE = gc ? "" : " (without --expose-gc: figures include garbage)";

export interface Parked {
  /** RSS and JS heap per process, in bytes. */
  rssPerProcess: number;
  heapPerProcess: number;
  /** Linear memory of one of them, in bytes. */
  linearMemory: number;
}

/**
 * Spawns `n` processes of `id` that park (wait without end), measures the memory they add
 * once all are suspended, then terminates them and waits for every EXIT.
 */
export async function parkedMemory(rt: Runtime, id: string, host: string, n: number, ...args: unknown[]): Promise<Parked> {
  const p = rt.process;
  await settle();
  const before = process.memoryUsage();
  const pids: string[] = [];
  for (let i = 0; i < n; i++) pids.push(await p.spawn(id, host, ...args));
  const mine = new Set(pids);
  const parked = () => rt.processes().filter((x) => mine.has(x.pid) && x.state === "suspended");
  for (;;) {
    const alive = rt.processes().filter((x) => mine.has(x.pid));
    if (alive.length < n) throw new Error(`parkedMemory: ${n - alive.length} of the ${n} ${id} processes ended instead of parking`);
    if (parked().length === n) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await settle();
  const after = process.memoryUsage();
  const linearMemory = parked()[0]?.memory ?? 0;
  const watcher = rt.newProcess();
  for (const pid of pids) await watcher.monitor(pid);
  for (const pid of pids) await p.terminate(pid);
  for (let i = 0; i < n; i++) await watcher.receive();
  watcher.close();
  return { rssPerProcess: (after.rss - before.rss) / n, heapPerProcess: (after.heapUsed - before.heapUsed) / n, linearMemory };
}
