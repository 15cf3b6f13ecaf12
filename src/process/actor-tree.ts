// One XState actor system per runtime (SPEC 4.5): the root actor, hosts as its
// children, supervisors and processes beneath them. An observer can attach at
// any time: it is first told of the actors already running (parents before
// children), then sees everything live. WASM processes nobody inspects run
// without an actor; when an observer attaches they get one at the state they
// are in (`attach`). A runtime with no actor at all (WASM processes only, no one
// inspecting) has no root either until something needs it, and no XState loaded
// (actor-kit.ts).

import type { AnyActorRef, InspectionEvent, Observer } from "xstate";
import { actorKit, hasActorKit } from "./actor-kit.ts";

/** The root actor's id (a pid or entry ID names every other actor). */
export const ROOT_ACTOR_ID = "wippy.runtime";

export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Where an actor is shown: a given actor, or one made only when it is needed (a host's). */
export type ActorParent = AnyActorRef | (() => AnyActorRef) | undefined;

export function parentActor(parent: ActorParent): AnyActorRef | undefined {
  return typeof parent === "function" ? parent() : parent;
}

export class ActorTree {
  readonly #rootDir: string;
  readonly #inspectAtStart: InspectObserver | undefined;
  #root: AnyActorRef | undefined;
  /** Live actors in creation order (parents first), for announcing to late observers. */
  readonly #live = new Set<AnyActorRef>();
  #observers = 0;
  readonly #attachers = new Set<() => void>();

  constructor(rootDir: string, inspect?: InspectObserver) {
    this.#rootDir = rootDir;
    this.#inspectAtStart = inspect;
    if (inspect) this.#observers++;
    if (hasActorKit()) void this.root;
  }

  /** The root actor, started the first time it is needed (at once when XState is loaded already). */
  get root(): AnyActorRef {
    if (this.#root) return this.#root;
    const { createActor, runtimeMachine } = actorKit();
    const inspect = this.#inspectAtStart;
    this.#root = this.track(createActor(runtimeMachine, { id: ROOT_ACTOR_ID, input: { root: this.#rootDir }, ...(inspect ? { inspect } : {}) }));
    this.#root.start();
    return this.#root;
  }

  /** Has the root actor started (XState is loaded and something needed an actor)? */
  get started(): boolean {
    return this.#root !== undefined;
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
    const observer = actorKit().toObserver(observerOrFn);
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
    this.#root?.send({ type: "CLOSE" });
  }
}
