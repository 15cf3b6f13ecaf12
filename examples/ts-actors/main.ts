// A supervisor built in TypeScript over two TypeScript actors — a counter machine and a
// `fromProcess` worker that calls the WASM compute_worker and crashes now and then — beside
// the YAML tree (app:tree) that runs the same counter logic as a named actor.
//
//   node examples/ts-actors/main.ts        (npm run actors)
import { fileURLToPath } from "node:url";
import { Runtime, type SupervisorRef } from "wippy-wasm";
import { counterMachine, multiplier } from "./src/actors.ts";

const runtime = await Runtime.open({ root: fileURLToPath(new URL(".", import.meta.url)) });

/** The pid of a child's current incarnation (after a restart it has a new one). */
async function pidOf(sup: SupervisorRef, id: string): Promise<string> {
  for (;;) {
    const child = (await sup.whichChildren()).find((c) => c.id === id);
    if (child?.pid && child.state === "running") return child.pid;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends to a child; a pid that just died (send → false) is looked up again once its supervisor has restarted it. */
async function sendToChild(sup: SupervisorRef, id: string, topic: string, payload?: unknown): Promise<void> {
  while (!(await runtime.process.send(await pidOf(sup, id), topic, payload))) await new Promise((r) => setTimeout(r, 5));
}

try {
  const workers = runtime.startSupervisor({
    id: "app:workers",
    strategy: "one_for_one",
    intensity: 5,
    period: "10s",
    children: [
      { id: "tally", actor: counterMachine },
      { id: "multiplier", actor: multiplier, input: { factor: 6 }, restart: { policy: "permanent", initialDelay: "10ms", maxDelay: "100ms" } },
    ],
  });
  const me = runtime.process;
  for (let n = 1; n <= 9; n++) {
    await sendToChild(workers, "multiplier", "job", n);
    const reply = await me.receive({ match: (e) => e.type === "MESSAGE" && e.topic === "product", timeout: 10_000 });
    if (reply?.type !== "MESSAGE") throw new Error(`no answer for job ${n}`);
    const { value } = reply.payload as { n: number; value: number };
    console.log(`6 × ${n} = ${value}`);
    await sendToChild(workers, "tally", "inc", value);
  }
  await sendToChild(workers, "tally", "get");
  const total = await me.receive({ match: (e) => e.type === "MESSAGE" && e.topic === "total", timeout: 5_000 });
  console.log(`total: ${total?.type === "MESSAGE" ? String(total.payload) : "?"}`);
  for (const c of await workers.whichChildren()) console.log(`${c.id}: ${c.kind}, ${c.state}, restarts ${c.restarts}`);
  const yamlTree = await runtime.supervisor("app:tree").countChildren();
  console.log(`app:tree (YAML): ${yamlTree.active} of ${yamlTree.specs} children running`);
} finally {
  await runtime.close();
}
