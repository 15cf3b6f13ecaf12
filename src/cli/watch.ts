// --inspect and --observe for the CLI: start what was asked for around a runtime, say
// where to look (one line each, on stderr), and stop it again.

import type { Runtime, RuntimeOptions } from "../runtime.ts";
import type { InspectorRelay } from "../observe/inspector.ts";
import type { ObserverServer } from "../observe/server.ts";
import type { CliArgs } from "./args.ts";
import { loadActorKit } from "../process/actor-kit.ts";

export const DEFAULT_INSPECT_PORT = 8080;
export const DEFAULT_OBSERVE_PORT = 9090;

export interface Watchers {
  /** To pass to Runtime.open before the runtime exists. */
  runtimeOptions: Pick<RuntimeOptions, "inspect">;
  /** Once the runtime is open: the observer page. */
  attach(runtime: Runtime): Promise<void>;
  stop(): Promise<void>;
}

export async function startWatchers(args: Pick<CliArgs, "inspect" | "observe">, log: (line: string) => void): Promise<Watchers> {
  let relay: InspectorRelay | undefined;
  let observer: ObserverServer | undefined;
  // both watch actors: the runtime then has them from the start (XState loads only for a watched run)
  if (args.inspect !== undefined || args.observe !== undefined) await loadActorKit();
  if (args.inspect !== undefined) {
    // the inspector and observer (ws, @statelyai/inspect) load only when asked for
    const { startInspector } = await import("../observe/inspector.ts");
    relay = await startInspector(args.inspect || DEFAULT_INSPECT_PORT);
    log(`inspector: open ${relay.url} (the Stately inspector; events stay on ${relay.wsUrl})`);
  }
  return {
    runtimeOptions: relay ? { inspect: relay.inspect } : {},
    async attach(runtime) {
      if (args.observe === undefined) return;
      const { serveObserver } = await import("../observe/server.ts");
      observer = await serveObserver(runtime, args.observe || DEFAULT_OBSERVE_PORT);
      log(`observer: open ${observer.url}`);
    },
    async stop() {
      await observer?.close();
      await relay?.stop();
    },
  };
}
