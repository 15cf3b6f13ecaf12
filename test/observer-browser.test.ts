// The observer page in a real browser (headless Chromium through playwright-core):
// `wippy run --observe` in examples/supervision-tree, and a restart of app:flaky shows
// up on the page without a reload. The test saves a screenshot in test/artifacts/.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/project.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT = join(REPO, "test", "artifacts", "observer.png");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("observer page in Chromium", () => {
  it("shows the supervision-tree example live and a restart appearing", { timeout: 120_000 }, async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, [join(REPO, "bin", "wippy.js"), "run", "--observe", String(port)], {
      cwd: join(REPO, "examples", "supervision-tree"),
      env: { ...process.env, WIPPY_CACHE_DIR: mkdtempSync(join(tmpdir(), "wippy-observe-cache-")) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no observer line in: ${stderr}`)), 30_000);
        child.stderr!.on("data", () => {
          const m = /wippy: observer: open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect(url).toBe(`http://127.0.0.1:${port}/`);
      const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
      await page.goto(url);
      await page.locator("#live.on").waitFor({ timeout: 10_000 });
      // the tree: root supervisor, its children; a process suspended in its sleep
      await page.locator('[data-testid="trees"] [data-child="app:steady"] [data-state="suspended"]').waitFor({ timeout: 20_000 });
      // flaky traps and is restarted: its restart count shows, then grows, with no reload
      const restarts = page.locator('[data-child="app:flaky"] [data-testid="restarts"]');
      await restarts.waitFor({ timeout: 20_000 });
      const count = async () => Number((await restarts.textContent())?.replace(/\D+/g, "") ?? 0);
      const first = await count();
      await expect.poll(count, { timeout: 20_000 }).toBeGreaterThan(first);
      await page.locator('[data-testid="exits"] [data-exit-kind="trap"]').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-total="processes"] b').textContent()).toMatch(/^\d+$/);
      mkdirSync(join(REPO, "test", "artifacts"), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`observer screenshot: ${SCREENSHOT}`);
    } finally {
      await browser.close();
      child.kill("SIGINT");
      await new Promise((r) => child.once("close", r));
    }
    expect(stderr).toContain("wippy: stopped");
  });
});
