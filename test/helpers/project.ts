// Builds throwaway projects for tests: a temp folder with fixture binaries and
// a registry whose `{{hash:NAME}}` placeholders are the binaries' SHA-256.

import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import { Runtime, type RuntimeOptions } from "../../src/index.ts";

export const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export function fixture(rel: string): string {
  return join(FIXTURES, rel);
}

export function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

export interface TestProject {
  root: string;
  /** Absolute path of a file in the project. */
  path(rel: string): string;
}

/**
 * `binaries`: project-relative destination → fixture-relative source.
 * `yaml`: the definition file; `{{hash:DEST}}` becomes `sha256:<hex>` of DEST.
 */
export function makeProject(yaml: string, binaries: Record<string, string> = {}, extra: Record<string, string> = {}): TestProject {
  const root = mkdtempSync(join(tmpdir(), "wippy-test-"));
  for (const [dest, src] of Object.entries(binaries)) {
    const to = join(root, dest);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(fixture(src), to);
  }
  for (const [dest, text] of Object.entries(extra)) {
    const to = join(root, dest);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, text);
  }
  const text = yaml.replace(/\{\{hash:([^}]+)\}\}/g, (_m, dest: string) => `sha256:${sha256(join(root, dest))}`);
  mkdirSync(join(root, "src"), { recursive: true });
  writeFileSync(join(root, "src", "app.yaml"), text);
  return { root, path: (rel) => join(root, rel) };
}

/** Collects guest output per pid. */
export function captureStdio() {
  const out = new Map<string, string>();
  const err = new Map<string, string>();
  const dec = new TextDecoder();
  return {
    stdio: {
      stdout: (pid: string, c: Uint8Array) => void out.set(pid, (out.get(pid) ?? "") + dec.decode(c)),
      stderr: (pid: string, c: Uint8Array) => void err.set(pid, (err.get(pid) ?? "") + dec.decode(c)),
    },
    stdout: (pid: string) => out.get(pid) ?? "",
    stderr: (pid: string) => err.get(pid) ?? "",
  };
}

/**
 * For a test file: `open(yaml, binaries, opts)` makes a project and opens a Runtime on it
 * (captured stdio, one cache folder per file), and every runtime opened is closed after
 * each test.
 */
export function useRuntimes(prefix: string, closeTimeoutMs = 100) {
  const cacheDir = mkdtempSync(join(tmpdir(), `wippy-${prefix}-cache-`));
  const opened: Runtime[] = [];
  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close(closeTimeoutMs);
  });
  return async (yaml: string, binaries: Record<string, string> = {}, opts: Partial<RuntimeOptions> = {}) => {
    const project = makeProject(yaml, binaries);
    const io = captureStdio();
    const runtime = await Runtime.open({ root: project.root, cacheDir, stdio: io.stdio, ...opts });
    opened.push(runtime);
    return { runtime, project, io };
  };
}

/**
 * A CLI run's stderr without the one-line notice of a first build ("preparing … for its
 * first run"): it shows whenever building takes over 1 s, which depends on the machine's
 * load; test/cache.test.ts checks when it appears.
 */
export function withoutPrepareNotice(stderr: string): string {
  return stderr.replace(/^wippy: preparing .* for its first run: .*\n/gm, "");
}
