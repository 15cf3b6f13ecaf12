// Fuzzing the registry: valid definition files, mutated (characters, lines, values,
// indentation), go through validation. Every case must end as entries or as issues that
// each name a file and say what is wrong in one line; anything thrown is a crash.

import { cpSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Runtime } from "../../src/index.ts";
import { formatIssue, validateDocuments } from "../../src/registry/index.ts";
import { captureStdio } from "../helpers/project.ts";
import { REPO } from "../helpers/project.ts";
import { prng, type Random } from "./prng.ts";

/** The seeds: every example's definition files, with the example they belong to. */
export function registrySeeds(): { example: string; text: string }[] {
  const out: { example: string; text: string }[] = [];
  for (const example of readdirSync(join(REPO, "examples"))) {
    const src = join(REPO, "examples", example, "src");
    try {
      for (const f of readdirSync(src)) if (f.endsWith(".yaml")) out.push({ example, text: readFileSync(join(src, f), "utf8") });
    } catch {
      // an example without src/
    }
  }
  return out;
}

const VALUES = ["", "0", "-1", "1e309", "999999999999999999999", "true", "null", "~", "[]", "{}", "[1, [2, {a: b}]]", '"\\u0000"', "'", '"', "&a", "*a", "!!binary x", "${env:NOPE}", "${env:", "../../../etc/passwd", "/abs/olute", "sha256:zz", "1ms", "10 GB", "-5s", "\t", "- x", ":", "? x", "%YAML 1.2", "---", "...", "|", ">", "#"];

function mutate(text: string, r: Random): string {
  const lines = text.split("\n");
  const i = r.int(lines.length);
  switch (r.int(9)) {
    case 0: { // delete a character
      const at = r.int(text.length);
      return text.slice(0, at) + text.slice(at + 1);
    }
    case 1: { // insert a character
      const at = r.int(text.length);
      return text.slice(0, at) + String.fromCharCode(r.pick([9, 10, 32, 34, 35, 38, 39, 42, 45, 58, 63, 91, 93, 123, 125, 0, 0xfeff, 0x1f600 & 0xffff])) + text.slice(at);
    }
    case 2: // drop a line
      lines.splice(i, 1);
      return lines.join("\n");
    case 3: // duplicate a line
      lines.splice(i, 0, lines[i] ?? "");
      return lines.join("\n");
    case 4: { // swap two lines
      const j = r.int(lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join("\n");
    }
    case 5: { // replace a value after a colon
      const line = lines[i] ?? "";
      const colon = line.indexOf(": ");
      lines[i] = colon >= 0 ? `${line.slice(0, colon + 2)}${r.pick(VALUES)}` : `${line}${r.pick(VALUES)}`;
      return lines.join("\n");
    }
    case 6: // change indentation
      lines[i] = r.int(2) ? ` ${lines[i] ?? ""}` : (lines[i] ?? "").replace(/^ {1,2}/, "");
      return lines.join("\n");
    case 7: // truncate
      return text.slice(0, r.int(text.length + 1));
    default: { // a field name changed
      const line = lines[i] ?? "";
      lines[i] = line.replace(/([a-z_]+):/, (_m, k: string) => `${r.int(2) ? k.toUpperCase() : k.slice(1)}:`);
      return lines.join("\n");
    }
  }
}

export interface FuzzFailure {
  seed: number;
  case: number;
  problem: string;
  input: string;
}

/** Runs `count` cases from `seed`; returns the failures (none expected). */
export function fuzzRegistry(seed: number, count: number): { failures: FuzzFailure[]; valid: number; invalid: number } {
  const seeds = registrySeeds();
  const r = prng(seed);
  const failures: FuzzFailure[] = [];
  let valid = 0;
  let invalid = 0;
  for (let n = 0; n < count; n++) {
    let text = r.pick(seeds).text;
    for (let k = 1 + r.int(3); k > 0; k--) text = mutate(text, r);
    try {
      const result = validateDocuments([{ file: "/project/src/app.yaml", text }], { root: "/project", env: {} });
      if (result.issues.length === 0) valid++;
      else invalid++;
      for (const issue of result.issues) {
        const line = formatIssue(issue, "/project");
        if (!issue.file || !issue.message || line.includes("\n") || /undefined|\[object Object\]|NaN/.test(line)) {
          failures.push({ seed, case: n, problem: `unclear issue: ${JSON.stringify(line)}`, input: text });
        }
      }
    } catch (err) {
      failures.push({ seed, case: n, problem: `threw ${(err as Error)?.stack ?? String(err)}`, input: text });
    }
  }
  return { failures, valid, invalid };
}

/**
 * Mutated registries that still validate are opened (auto_start trees and all, on a
 * temp copy of their example) and every process.wasm entry is spawned on the first
 * process.host: each spawn must end in exactly one EXIT, at the latest when the
 * runtime closes.
 */
export async function fuzzRegistrySpawn(seed: number, wanted: number): Promise<{ failures: string[]; opened: number; spawned: number }> {
  const seeds = registrySeeds();
  const copies = mkdtempSync(join(tmpdir(), "wippy-fuzz-examples-"));
  cpSync(join(REPO, "examples"), copies, { recursive: true });
  // the examples' actor modules import the package by name, as a project beside it would
  symlinkSync(join(REPO, "node_modules"), join(copies, "node_modules"), "dir");
  const cacheDir = mkdtempSync(join(tmpdir(), "wippy-fuzz-cache-"));
  const r = prng(seed);
  const failures: string[] = [];
  let opened = 0;
  let spawned = 0;
  for (let n = 0; opened < wanted && n < wanted * 200; n++) {
    const picked = r.pick(seeds);
    let text = picked.text;
    for (let k = 1 + r.int(2); k > 0; k--) text = mutate(text, r);
    const root = join(copies, picked.example);
    const file = join(root, "src", "fuzz.yaml");
    const result = validateDocuments([{ file, text }], { root, env: {} });
    if (result.issues.length > 0) continue;
    opened++;
    let rt: Runtime | undefined;
    try {
      rt = await Runtime.open({ registry: { root, src: join(root, "src"), files: [file], entries: result.entries }, cacheDir, stdio: captureStdio().stdio, env: {} });
      const host = [...result.entries.values()].find((e) => e.kind === "process.host");
      const watcher = rt.newProcess();
      const pids: string[] = [];
      for (const e of result.entries.values()) {
        if (e.kind !== "process.wasm" || !host) continue;
        try {
          pids.push(await watcher.spawnMonitored(e.id, host.id));
        } catch (err) {
          if (!(err instanceof Error) || err.name !== "ProcessError") failures.push(`seed ${seed} case ${n}: spawn threw ${String(err)}`);
        }
      }
      spawned += pids.length;
      const exits = new Map<string, number>();
      const deadline = Date.now() + 1500;
      while (exits.size < pids.length && Date.now() < deadline) {
        const ev = await watcher.receive(Math.max(1, deadline - Date.now()));
        if (ev?.type === "EXIT") exits.set(ev.from, (exits.get(ev.from) ?? 0) + 1);
      }
      await rt.close(100);
      // the watcher ended with the runtime: it reads what it was sent, then receive rejects
      for (;;) {
        const ev = await watcher.receive(0).catch((err: unknown) => {
          if ((err as Error)?.name === "ProcessExitError") return null;
          throw err;
        });
        if (!ev) break;
        if (ev.type === "EXIT") exits.set(ev.from, (exits.get(ev.from) ?? 0) + 1);
      }
      for (const pid of pids) if (exits.get(pid) !== 1) failures.push(`seed ${seed} case ${n}: ${pid} had ${exits.get(pid) ?? 0} EXITs\n${text}`);
    } catch (err) {
      failures.push(`seed ${seed} case ${n}: threw ${(err as Error)?.stack ?? String(err)}\n${text}`);
      await rt?.close(100).catch(() => undefined);
    }
  }
  return { failures, opened, spawned };
}
