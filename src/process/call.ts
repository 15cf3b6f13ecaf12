// `runtime.call`: a `function.wasm` entry instantiated, called once and freed, with no
// pid or mailbox, but under the same limits as a process (SPEC 4.4): the same
// instrumentation, Budget and max_execution_ms timer, host waits that give up when it
// ends, and a guest resumed after the end unwinds. It settles exactly once, with the
// value or a ProcessError (`limit`, `cancelled`, `trap`, `spawn`, ...).

import type { Registry, WasmEntry } from "../registry/types.ts";
import type { ProgramLoader } from "../wasm/loader.ts";
import type { Instance, Program } from "../wasm/program.ts";
import { Budget } from "./budget.ts";
import { ProcessError, toProcessError } from "./exit.ts";
import { buildProcessIO, type Stdio } from "./io.ts";
import { GuestLifetime } from "./lifetime.ts";
import { spawnError } from "./wasm-process.ts";

export interface CallDeps {
  registry: Registry;
  loader: ProgramLoader;
  env: Record<string, string | undefined>;
  stdio: Stdio;
}

export interface CallOptions {
  /** Aborting it ends the call at once (kind `cancelled`); the guest is freed. */
  signal?: AbortSignal;
}

/** Calls `entry`'s method with `args`: resolves with its value, rejects with a ProcessError. */
export function callFunction(deps: CallDeps, entry: WasmEntry, args: unknown[], opts: CallOptions = {}): Promise<unknown> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(cancelled(entry, signal.reason));
  return new Promise((resolve, reject) => run(deps, entry, args, signal, resolve, reject));
}

function run(
  deps: CallDeps,
  entry: WasmEntry,
  args: unknown[],
  signal: AbortSignal | undefined,
  resolve: (value: unknown) => void,
  reject: (err: ProcessError) => void,
): void {
  const life = new GuestLifetime();
  const budget = new Budget(entry.limits);
  let instance: Instance | undefined;
  const onAbort = () => finish({ error: cancelled(entry, signal?.reason) });
  /** The first end wins; later ones (a guest unwinding after an abort) change nothing. */
  const finish = (result: { value: unknown } | { error: ProcessError }) => {
    if (!life.end()) return;
    signal?.removeEventListener("abort", onAbort);
    try {
      instance?.dispose?.();
    } finally {
      instance = undefined;
      if ("value" in result) resolve(result.value);
      else reject(result.error);
    }
  };
  // listening from the start: an abort while the binary loads ends the call at once too
  signal?.addEventListener("abort", onAbort, { once: true });

  const start = (ready: Instance) => {
    if (life.ended) {
      ready.dispose?.(); // ended while instantiating
      return;
    }
    instance = ready;
    budget.start();
    const maxMs = entry.limits.maxExecutionMs;
    // the wall clock, waits included: a guest asleep in WASI never reaches a fuel checkpoint
    if (maxMs !== undefined) life.after(maxMs, () => finish({ error: budget.timeLimit() }));
    let out: unknown;
    try {
      out = ready.call(args);
    } catch (err) {
      finish({ error: toProcessError(err) });
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (value: unknown) => finish({ value }),
        (err: unknown) => finish({ error: toProcessError(err) }),
      );
    } else {
      finish({ value: out });
    }
  };

  const instantiate = (program: Program) => {
    if (life.ended) return; // aborted while loading
    let pending: Instance | Promise<Instance>;
    try {
      const io = buildProcessIO(entry, args, { env: deps.env, registry: deps.registry, stdio: deps.stdio }, {
        pid: entry.id,
        budget,
        get signal() {
          return life.signal;
        },
        suspend() {}, // no process machine to show it
        resume: () => life.resume(`the call to ${entry.id}`),
      });
      pending = program.instantiate(io);
    } catch (err) {
      finish({ error: instantiationError(err) });
      return;
    }
    if (pending instanceof Promise) pending.then(start, (err: unknown) => finish({ error: instantiationError(err) }));
    else start(pending);
  };

  // "preempt": fuel, max_memory and yields, so that the timer and an abort get their turn
  const program = deps.loader.peek(entry, "preempt");
  if (program) instantiate(program);
  else deps.loader.load(entry, "preempt").then(instantiate, (err: unknown) => finish({ error: instantiationError(err) }));
}

/** A failed load or instantiation, classified as a process's would be. */
function instantiationError(err: unknown): ProcessError {
  if (err instanceof ProcessError) return err;
  const { kind, message } = spawnError(err);
  return new ProcessError(kind, message);
}

/** The message carries the abort reason when it is a string or an Error. */
function cancelled(entry: WasmEntry, reason: unknown): ProcessError {
  const why = typeof reason === "string" ? reason : reason instanceof Error ? reason.message : undefined;
  return new ProcessError("cancelled", `the call to ${entry.id} was cancelled${why ? `: ${why}` : ""}`);
}
