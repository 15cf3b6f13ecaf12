// XState on demand (src/process/actor-kit.ts): a runtime opened with actorsOnDemand (the
// CLI's commands) over WASM processes alone runs them without loading XState; the first
// spawnActor loads it and the actor runs under the runtime's tree as any other. Each case
// runs in a fresh Node process, since a test worker may have loaded XState already.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/project.ts";

function runScript(body: string): { code: number | null; stdout: string; stderr: string } {
  const src = (rel: string) => JSON.stringify(pathToFileURL(join(REPO, rel)).href);
  const script = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
const xstateLoaded = () => loaded.some((u) => u.includes("/node_modules/xstate/"));
const { Runtime, actorsOnDemand } = await import(${src("src/runtime.ts")});
const { hasActorKit } = await import(${src("src/process/actor-kit.ts")});
${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: join(REPO, "examples", "compute"), encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("XState on demand", () => {
  it("WASM processes run without it; the first spawnActor loads it and runs the actor", () => {
    const r = runScript(`
const rt = await Runtime.open(actorsOnDemand({ root: "." }));
const exit = await rt.process.exec("myns:compute_worker", "myns:processes", 6, 7);
console.log("wasm", JSON.stringify(exit), hasActorKit(), xstateLoaded());
let refused = "";
try { rt.inspect(() => {}); } catch (err) { refused = err.message; }
console.log("inspect", refused);
const { fromPromise } = await import("xstate");
const pid = await rt.spawnActor(fromPromise(async () => 42), { host: "myns:processes", monitor: true });
console.log("actor", JSON.stringify(await rt.process.receive(10_000)) === JSON.stringify({ type: "EXIT", from: pid, value: 42 }), hasActorKit());
await rt.close();
`);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe([
      'wasm {"value":42} false false',
      "inspect XState is not loaded in this runtime (opened with actorsOnDemand): open it without that, or import the runtime from the package entry (wippy-wasm), which loads it",
      "actor true true",
      "",
    ].join("\n"));
  });

  it("is loaded at open otherwise, so inspect() answers at once", () => {
    const r = runScript(`
const rt = await Runtime.open({ root: "." });
const events = [];
rt.inspect((e) => events.push(e.type));
await rt.process.exec("myns:compute_worker", "myns:processes", 6, 7);
console.log(hasActorKit(), events.includes("@xstate.actor"));
await rt.close();
`);
    expect(r).toMatchObject({ stderr: "", stdout: "true true\n" });
  });
});
