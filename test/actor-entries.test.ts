// Named actors (SPEC 2, 4.2): process.actor entries whose logic comes from
// their module or from Runtime.open({ actors }), spawned by entry ID and run
// as services under a YAML supervisor.

import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { fromPromise } from "xstate";
import { afterEach, describe, expect, it } from "vitest";
import { Runtime, fromProcess, type ExitEvent, type RuntimeOptions } from "../src/index.ts";
import type { SupervisionEvent } from "../src/supervision/index.ts";
import { captureStdio, makeProject, REPO } from "./helpers/project.ts";
import { until } from "./helpers/supervision.ts";

const INDEX = join(REPO, "src", "index.ts");

// input.args are the spawn arguments; "inc" adds its payload; "stop" ends it with the count.
const COUNTER = `import { assign, setup } from "xstate";
export const counterMachine = setup({}).createMachine({
  context: ({ input }) => ({ count: input.args[0] + input.args[1] }),
  initial: "counting",
  states: {
    counting: { on: { inc: { actions: assign({ count: ({ context, event }) => context.count + event.payload }) }, stop: "done" } },
    done: { type: "final" },
  },
  output: ({ context }) => context.count,
});
export const notLogic = { transition: 1 };
`;

// Throws on its first run, then waits until it is cancelled: a module-level run count, fresh per project.
const FLAKY = `import { fromProcess } from ${JSON.stringify(INDEX)};
let runs = 0;
export default fromProcess(async ({ receive }) => {
  runs += 1;
  if (runs === 1) throw new Error("first run fails");
  await receive({ match: (e) => e.type === "CANCEL" });
  return runs;
});
`;

const YAML = `namespace: t
entries:
  - { name: hosts, kind: process.host }
  - { name: counter, kind: process.actor, module: "file://actors/counter.ts", export: counterMachine }
`;

const opened: Runtime[] = [];
afterEach(async () => {
  for (const rt of opened.splice(0)) await rt.close(100);
});

/** A project whose src/ holds `modules`, with the repo's node_modules visible to them (as in an installed project). */
async function open(yaml: string, modules: Record<string, string>, opts: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  const project = makeProject(yaml, {}, Object.fromEntries(Object.entries(modules).map(([rel, text]) => [join("src", rel), text])));
  symlinkSync(join(REPO, "node_modules"), project.path("node_modules"));
  const rt = await Runtime.open({ root: project.root, stdio: captureStdio().stdio, ...opts });
  opened.push(rt);
  return rt;
}

async function exitOf(rt: Runtime, pid: string): Promise<ExitEvent> {
  const ev = await rt.process.receive({ match: (e) => e.type === "EXIT" && e.from === pid });
  return ev as ExitEvent;
}

describe("process.actor entries", () => {
  it("load their logic from the module's export; spawn by entry ID passes input { args }", async () => {
    const rt = await open(YAML, { "actors/counter.ts": COUNTER });
    const pid = await rt.process.spawnMonitored("t:counter", "t:hosts", 1, 2);
    expect(rt.processes().find((p) => p.pid === pid)).toMatchObject({ kind: "actor", entry: "t:counter" });
    await rt.process.send(pid, "inc", 4);
    await rt.process.send(pid, "stop", null);
    expect(await exitOf(rt, pid)).toEqual({ type: "EXIT", from: pid, value: 7 });
  });

  it("Runtime.open({ actors }) overrides the module and gives logic to entries without one", async () => {
    const yaml = `${YAML}  - { name: given, kind: process.actor }\n`;
    const rt = await open(yaml, { "actors/counter.ts": COUNTER }, {
      actors: {
        "t:counter": fromPromise(async ({ input }: { input: { args: number[] } }) => `override ${input.args.join(",")}`),
        "t:given": fromProcess(async ({ input }) => (input as { args: unknown[] }).args.length),
      },
    });
    const a = await rt.process.spawnMonitored("t:counter", "t:hosts", 1, 2);
    expect(await exitOf(rt, a)).toMatchObject({ value: "override 1,2" });
    const b = await rt.process.spawnMonitored("t:given", "t:hosts", "x", "y", "z");
    expect(await exitOf(rt, b)).toMatchObject({ value: 3 });
  });

  it("Runtime.open rejects an actor entry without logic, naming it and both ways to give it", async () => {
    const yaml = `${YAML}  - { name: bare, kind: process.actor }\n`;
    await expect(open(yaml, { "actors/counter.ts": COUNTER })).rejects.toThrow(
      'src/app.yaml:5: entry t:bare: the process.actor entry has no logic; give it a module (module: file://<path>) or pass it in Runtime.open({ actors: { "t:bare": logic } })',
    );
  });

  it("Runtime.open rejects actors keys that are not process.actor entries", async () => {
    await expect(open(YAML, { "actors/counter.ts": COUNTER }, { actors: { "t:countr": fromProcess(async () => 1) } })).rejects.toThrow(
      'Runtime.open: actors["t:countr"] is not in the registry; keys of actors must be process.actor entry IDs (t:counter)',
    );
    await expect(open(YAML, { "actors/counter.ts": COUNTER }, { actors: { "t:hosts": fromProcess(async () => 1) } })).rejects.toThrow(
      'Runtime.open: actors["t:hosts"] is a process.host entry; keys of actors must be process.actor entry IDs (t:counter)',
    );
  });

  it("a module that is missing, lacks the export or does not export logic fails Runtime.open with one line naming entry, file and export", async () => {
    const missing = open(YAML, {});
    await expect(missing).rejects.toThrow(/^t:counter: module \/.*\/src\/actors\/counter\.ts does not exist; create it or fix module: in \/.*\/src\/app\.yaml:4$/);
    const noExport = open(YAML.replace("counterMachine", "nope"), { "actors/counter.ts": COUNTER });
    await expect(noExport).rejects.toThrow(/^t:counter: module \/.*\/src\/actors\/counter\.ts has no export "nope" \(it exports counterMachine, notLogic\); set export: to one of them$/);
    const notLogic = open(YAML.replace("counterMachine", "notLogic"), { "actors/counter.ts": COUNTER });
    await expect(notLogic).rejects.toThrow(/^t:counter: export "notLogic" of \/.*\/src\/actors\/counter\.ts is not XState actor logic \(a machine, .*\); got an object with keys transition$/);
  });

  it("a process.service naming an actor runs under a YAML supervisor and is restarted after it throws", async () => {
    const events: SupervisionEvent[] = [];
    const rt = await open(`namespace: t
entries:
  - { name: hosts, kind: process.host }
  - { name: flaky, kind: process.actor, module: "file://flaky.ts" }
  - name: flaky_svc
    kind: process.service
    process: flaky
    host: hosts
    lifecycle: { restart: { initial_delay: 0, max_delay: 0 } }
  - { name: sup, kind: process.supervisor, children: [flaky_svc], lifecycle: { auto_start: true } }
`, { "flaky.ts": FLAKY }, { onSupervisorEvent: (e) => void events.push(e) });
    const restarted = await until(() => events.find((e) => e.type === "child.started" && e.child === "t:flaky_svc" && e.restarts === 1), 5000, "the restart");
    expect(restarted).toMatchObject({ supervisor: "t:sup", lastExit: { error: { kind: "error", message: expect.stringContaining("first run fails") } } });
    const pid = (restarted as { pid: string }).pid;
    expect(rt.processes().find((p) => p.pid === pid)).toMatchObject({ kind: "actor", entry: "t:flaky" });
  });
});
