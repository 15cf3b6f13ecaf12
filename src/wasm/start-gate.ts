// Component instantiations take turns. A component's start runs jco's glue and its core
// modules' instantiation for a few milliseconds of CPU, mostly in microtasks, so a burst
// of spawns would hold the event loop (timers, I/O, every other process) until the last
// one started. The gate runs them one after another and gives the loop a turn whenever
// a slice of a few milliseconds is used up.

/** How long a burst of starts may hold the event loop before timers and I/O get a turn. */
export const START_SLICE_MS = 4;

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

export class StartGate {
  readonly #queue: (() => Promise<unknown>)[] = [];
  #pumping = false;

  /** Runs `job` in its turn; the result is the job's. */
  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => job().then(resolve, reject));
      if (!this.#pumping) {
        this.#pumping = true;
        void this.#pump();
      }
    });
  }

  async #pump(): Promise<void> {
    let sliceStart = performance.now();
    while (this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      // a start that waits on more than microtasks (real I/O) does not hold up the others
      await Promise.race([job(), macrotask()]);
      if (performance.now() - sliceStart >= START_SLICE_MS) {
        await macrotask(); // the next check phase: timers and I/O run in between
        sliceStart = performance.now();
      }
    }
    this.#pumping = false;
  }
}

/** One gate per thread: the loop it protects is the thread's. */
export const componentStarts = new StartGate();
