// One XState actor system per runtime (SPEC 4.5): the root actor, hosts as its
// children, supervisors and processes beneath them. An observer can attach at
// any time: it is first told of the actors already running (parents before
// children), then sees everything live. WASM processes nobody inspects run
// without an actor; when an observer attaches they get one at the state they
// are in (`attach`).

import { createActor, toObserver, type AnyActorRef, type InspectionEvent, type Observer } from "xstate";
import { runtimeMachine } from "../../machines/runtime.ts";

/** The root actor's id (a pid or entry ID names every other actor). */
export const ROOT_ACTOR_ID = "wippy.runtime";

export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export class ActorTree {
  readonly root: AnyActorRef;
  /** Live actors in creation order (parents first), for announcing to late observers. */
  readonly #live = new Set<AnyActorRef>();
  #observers = 0;
  readonly #attachers = new Set<() => void>();

  constructor(rootDir: string, inspect?: InspectObserver) {
    if (inspect) this.#observers++;
    this.root = this.track(createActor(runtimeMachine, { id: ROOT_ACTOR_ID, input: { root: rootDir }, ...(inspect ? { inspect } : {}) }));
    this.root.start();
  }

  /** Is anyone inspecting? Lean processes make their actors only then. */
  get inspected(): boolean {
    return this.#observers > 0;
  }

  /** Keeps `actor` in the set to announce until it ends. */
  track<T extends AnyActorRef>(actor: T): T {
    this.#live.add(actor);
    const forget = () => void this.#live.delete(actor);
    actor.subscribe({ complete: forget, error: forget });
    return actor;
  }

  /** Called when an observer attaches: lean processes make their actors then. */
  onAttach(fn: () => void): () => void {
    this.#attachers.add(fn);
    return () => void this.#attachers.delete(fn);
  }

  /** Attaches an observer; returns the function that detaches it. */
  inspect(observerOrFn: InspectObserver): () => void {
    const observer = toObserver(observerOrFn);
    const rootId = this.root.sessionId;
    for (const actorRef of this.#live) {
      observer.next?.({ type: "@xstate.actor", actorRef, rootId } as InspectionEvent);
      observer.next?.({ type: "@xstate.snapshot", actorRef, snapshot: actorRef.getSnapshot(), event: { type: "xstate.init" }, rootId } as InspectionEvent);
    }
    const sub = this.root.system.inspect(observer);
    this.#observers++;
    for (const attach of this.#attachers) attach();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.#observers--;
      sub.unsubscribe();
    };
  }

  close(): void {
    this.root.send({ type: "CLOSE" });
  }
}
