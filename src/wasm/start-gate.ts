// Component instantiations take turns. A component's start runs jco's glue and its core
// modules' instantiation for a few milliseconds of CPU, mostly in microtasks, so a burst
// of spawns would hold the event loop (timers, I/O, every other process) until the last
// one started. The gate runs them one after another and gives the loop a turn (a
// macrotask: microtasks would not let timers run) before a start that would not fit in
// what is left of a slice of a few milliseconds.

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

  /** What the last start cost (ms): a start that would not fit in what is left of the slice waits for the next one. */
  #lastCost = 0;

  async #pump(): Promise<void> {
    let sliceStart = performance.now();
    let startsInSlice = 0;
    while (this.#queue.length > 0) {
      // a slice ends before a start that would overrun it, not after: its synchronous part
      // (jco's glue, the core instances, the guest's run up to its first wait) cannot be cut
      if (startsInSlice > 0 && performance.now() - sliceStart + this.#lastCost >= START_SLICE_MS) {
        await macrotask(); // the next check phase: timers and I/O run in between
        sliceStart = performance.now();
        startsInSlice = 0;
      }
      const job = this.#queue.shift()!;
      const began = performance.now();
      // a start that waits on more than microtasks (real I/O) does not hold up the others
      await Promise.race([job(), macrotask()]);
      this.#lastCost = performance.now() - began;
      startsInSlice++;
    }
    this.#pumping = false;
  }
}

/** One gate per thread: the loop it protects is the thread's. */
export const componentStarts = new StartGate();
