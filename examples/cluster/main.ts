// Node a of examples/cluster: joins the cluster, spawns the seed's
// compute_worker(6, 7) on node b (started with `wippy run --cluster … --node b
// --serve myns:compute_worker`), monitors it there and prints its EXIT.
//   node examples/cluster/main.ts [nats://127.0.0.1:4222]
import { fileURLToPath } from "node:url";
import { Runtime } from "wippy-wasm";

const nats = process.argv[2] ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const START_B = `npx wippy --root examples/cluster run --cluster ${nats} --node b --serve myns:compute_worker`;

let runtime: Runtime | undefined;
try {
  runtime = await Runtime.open({ root: fileURLToPath(new URL(".", import.meta.url)), cluster: { nats, node: "a" } });
  // heartbeats (every second) tell which nodes are up; b shows within one
  const deadline = Date.now() + 5000;
  while (!runtime.nodes().some((n) => n.name === "b" && n.state === "up") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const up = runtime.nodes().filter((n) => n.state === "up").map((n) => n.name);
  if (!up.includes("b")) throw new Error(`node b is not up on ${nats}; start it first: ${START_B}`);
  console.log(`nodes up: ${up.join(", ")}`);

  const proc = runtime.process;
  // the pid names its node: {b@myns:processes|…}; the monitor is here, on node a
  const pid = await proc.spawnMonitored("myns:compute_worker", "b@myns:processes", 6, 7);
  console.log(`compute_worker(6, 7) on node b: ${pid}`);
  const event = await proc.receive({ match: (e) => e.type === "EXIT" && e.from === pid, timeout: 10_000 });
  if (event?.type === "EXIT" && "value" in event) {
    console.log(`EXIT from node b: ${String(event.value)}`);
  } else {
    // e.g. { kind: "noconnection" } when node b went down before the worker ended
    console.error(`compute_worker ${pid} did not return a value: ${event?.type === "EXIT" ? `${event.error.kind}: ${event.error.message}` : "no EXIT within 10 s"}`);
    process.exitCode = 1;
  }
} catch (err) {
  console.error(`cluster example: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await runtime?.close();
}
