// The `wippy` imports of an instrumented module, by hand (the runtime's are in
// src/wasm/preempt-imports.ts): a fixed grant per refill, counted calls, and a
// Suspending yield that can really suspend.

import { STATE_IDLE } from "../../src/wasm/instrument.ts";

export function imports(opts: { grant?: number; maxPages?: number; suspend?: boolean } = {}) {
  const calls = { sync: 0, async: 0, suspended: 0, limit: [] as number[] };
  const grant = opts.grant ?? 1000;
  const state = new WebAssembly.Global({ value: "i32", mutable: true }, STATE_IDLE);
  const wippy = {
    state,
    max_pages: new WebAssembly.Global({ value: "i32", mutable: false }, opts.maxPages ?? 65536),
    fuel: new WebAssembly.Global({ value: "i32", mutable: false }, 0),
    yield_sync: () => (calls.sync++, grant),
    yield_async: new WebAssembly.Suspending(() => {
      calls.async++;
      if (!opts.suspend) return grant;
      calls.suspended++;
      return new Promise<number>((r) => setImmediate(() => r(grant)));
    }),
    memory_limit: (pages: number) => {
      calls.limit.push(pages);
      throw new Error(`limit: ${pages} pages`);
    },
  };
  return { calls, state, imports: { wippy } as unknown as WebAssembly.Imports };
}
