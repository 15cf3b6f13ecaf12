// How far a binary's first preparation has got, for whoever shows it (the CLI's line).
// The loader moves it through its phases; the byte instrumenter reports a share of its
// one pass, synchronously (it holds the thread meanwhile, so listeners run inside it).

export type PreparePhase = "transpiling" | "instrumenting" | "compiling";

export class PrepareProgress {
  #phase: PreparePhase = "instrumenting";
  /** 0..1 of the phase, when the phase can tell. */
  #share: number | undefined;
  readonly #listeners = new Set<() => void>();

  get phase(): PreparePhase {
    return this.#phase;
  }

  get share(): number | undefined {
    return this.#share;
  }

  set(phase: PreparePhase, share?: number): void {
    this.#phase = phase;
    this.#share = share === undefined ? undefined : Math.min(1, Math.max(0, share));
    for (const listener of this.#listeners) listener();
  }

  /** Called after every change; returns the way to stop listening. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
