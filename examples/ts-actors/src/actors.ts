// The logic of this project's TypeScript actors. Plain XState: nothing here knows
// it runs as a process, except the worker, which uses the process API.
import { assign, setup } from "xstate";
import { fromProcess, processOf } from "wippy-wasm";

/** Counts `inc` messages; answers `get` with the total; a CANCEL ends it with the total. */
export const counterMachine = setup({
  types: {
    context: {} as { total: number },
    events: {} as { type: "inc"; payload: number } | { type: "get"; from: string } | { type: "CANCEL" },
  },
  actions: {
    reply: ({ context, event, self }) => {
      if (event.type === "get") void processOf(self).send(event.from, "total", context.total);
    },
  },
}).createMachine({
  context: { total: 0 },
  initial: "counting",
  states: {
    counting: {
      on: {
        inc: { actions: assign({ total: ({ context, event }) => context.total + event.payload }) },
        get: { actions: "reply" },
        CANCEL: "stopped",
      },
    },
    stopped: { type: "final" },
  },
  output: ({ context }) => context.total,
});

/**
 * Multiplies by calling the WASM compute_worker for each job; every job whose number is
 * a multiple of 4 makes it crash (after answering), so its supervisor restarts it.
 */
export const multiplier = fromProcess<never, { factor: number }>(async ({ input, receive, send, exec }) => {
  for (;;) {
    const job = await receive({ match: (e) => e.type === "MESSAGE" && e.topic === "job" });
    if (job?.type !== "MESSAGE") continue;
    const n = job.payload as number;
    const result = await exec("app:compute_worker", "app:processes", input.factor, n);
    await send(job.from, "product", { n, value: "value" in result ? result.value : null });
    if (n % 4 === 0) throw new Error(`job ${n}: crashing on purpose`);
  }
});
