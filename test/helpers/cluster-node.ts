// One node of a test cluster, in its own Node process: opens a Runtime on the
// project it is given, joined to the cluster; says "ready"; closes on SIGTERM.

import { Runtime } from "../../src/index.ts";

const cfg = JSON.parse(process.argv[2]!) as { root: string; nats: string; node: string; serve?: string[]; auth?: { token: string }; heartbeat?: number; downAfter?: number; cacheDir?: string };
const rt = await Runtime.open({
  root: cfg.root,
  ...(cfg.cacheDir ? { cacheDir: cfg.cacheDir } : {}),
  cluster: {
    nats: cfg.nats,
    node: cfg.node,
    ...(cfg.serve ? { serve: cfg.serve } : {}),
    ...(cfg.auth ? { auth: cfg.auth } : {}),
    ...(cfg.heartbeat ? { heartbeat: cfg.heartbeat } : {}),
    ...(cfg.downAfter ? { downAfter: cfg.downAfter } : {}),
  },
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void rt.close(1000).then(() => process.exit(0));
});
setInterval(() => {}, 1 << 30);
