// JavaScript Promise Integration (Node 24, V8 13.6): not yet in TypeScript's lib.
declare namespace WebAssembly {
  class Suspending {
    constructor(fn: (...args: never[]) => unknown);
  }
  function promising<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<Awaited<R>>;
}
