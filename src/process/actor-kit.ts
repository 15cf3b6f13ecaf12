// XState on demand. A runtime that runs only WASM and Lua processes, with no one
// inspecting it, needs no actor: its processes step through the lifecycle machine's
// generated table (src/generated/process-transitions.ts), and a `wippy run` of a
// command starts without loading XState. What running real actors takes (XState,
// the machines, TypeScript actors, supervisors) is in xstate-kit.ts. Runtime.open loads
// it, unless opened with actorsOnDemand (the CLI's commands) over a registry without
// actors and with no one inspecting; then the first spawnActor loads it (and waits).
// The package entry (src/index.ts) loads it at once.

import type { ActorKit } from "./xstate-kit.ts";

let kit: ActorKit | undefined;

/** Called by xstate-kit.ts as it loads. */
export function provideActorKit(k: ActorKit): void {
  kit ??= k;
}

export function hasActorKit(): boolean {
  return kit !== undefined;
}

export async function loadActorKit(): Promise<ActorKit> {
  if (!kit) await import("./xstate-kit.ts");
  return kit!;
}

/** The kit, which something that runs actors has loaded before; throws if it has not. */
export function actorKit(): ActorKit {
  if (!kit) throw new Error("XState is not loaded in this runtime (opened with actorsOnDemand): open it without that, or import the runtime from the package entry (wippy-wasm), which loads it");
  return kit;
}
