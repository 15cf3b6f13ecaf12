// The seed's Lua example, through the TypeScript API:
// spawn_monitored("myns:compute_worker", "myns:processes", 6, 7), then wait for the EXIT.
import { fileURLToPath } from "node:url";
import { Runtime } from "wippy-wasm";

const runtime = await Runtime.open({ root: fileURLToPath(new URL(".", import.meta.url)) });
try {
  const proc = runtime.process;
  const pid = await proc.spawnMonitored("myns:compute_worker", "myns:processes", 6, 7);
  const event = await proc.receive(10_000);
  if (event?.type === "EXIT" && "value" in event) {
    console.log(event.value);
  } else {
    console.error(`compute_worker ${pid} did not return a value:`, event);
    process.exitCode = 1;
  }
} finally {
  await runtime.close();
}
