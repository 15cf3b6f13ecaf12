// The `wippy` imports of an instrumented module, bound to one process: where its
// fuel counter refills, where it yields the thread, where it hits max_memory.
// Every core module of one instance shares them (one `state`, one budget).

import type { Budget } from "../process/budget.ts";
import type { CoreInfo } from "./binary.ts";
import { PREEMPT_MODULE, STATE_IDLE } from "./instrument.ts";
import { suspending, type WrapWaiting } from "./program.ts";

export interface PreemptHooks {
  budget: Budget;
  /** The guest gives the thread up (the process machine shows it suspended). */
  onPreempt: () => void;
  /** It runs again; throws if the process ended meanwhile, which unwinds the guest. */
  onResume: () => void;
}

const instrumented = new WeakMap<WebAssembly.Module, boolean>();

/** True when the module was instrumented (imports from `wippy`). */
export function isInstrumented(module: WebAssembly.Module): boolean {
  let v = instrumented.get(module);
  if (v === undefined) {
    v = WebAssembly.Module.imports(module).some((i) => i.module === PREEMPT_MODULE);
    instrumented.set(module, v);
  }
  return v;
}

export interface MemoryShape {
  initial: number;
  maximum?: number;
}

/**
 * The limits of a module's own memory when instrumentation turned it into `wippy.memory`
 * (then each instance needs one, from a pool or new); `memory` is the original module's.
 */
export function pooledMemoryShape(module: WebAssembly.Module, memory: CoreInfo["memory"]): MemoryShape | undefined {
  if (!memory || memory.imported) return undefined;
  if (!WebAssembly.Module.imports(module).some((i) => i.module === PREEMPT_MODULE && i.kind === "memory")) return undefined;
  return memory.maximum === undefined ? { initial: memory.initial } : { initial: memory.initial, maximum: memory.maximum };
}

/** Immutable globals are shared by value (one per distinct max_pages or first grant). */
const constants = new Map<number, WebAssembly.Global>();
function constant(value: number): WebAssembly.Global {
  let g = constants.get(value);
  if (!g) {
    g = new WebAssembly.Global({ value: "i32", mutable: false }, value);
    if (constants.size < 1024) constants.set(value, g);
  }
  return g;
}

/** The `wippy.fuel` of one more instance of a process, charged to its budget. */
export function firstGrant(budget: Budget): WebAssembly.Global {
  return constant(budget.firstGrant());
}

/**
 * `wippy.state` globals of ended instances, back at STATE_IDLE: the next instance takes
 * one instead of a new WebAssembly.Global (a slow constructor, paid on every spawn).
 */
const idleStates: WebAssembly.Global[] = [];
const IDLE_STATES_KEPT = 4096;

/**
 * The instance that had `state` is gone and none of its frames is on a stack (not killed
 * while suspended): its state may serve the next one, if the guest left it idle.
 */
export function releaseState(state: WebAssembly.Global): void {
  if (state.value === STATE_IDLE && idleStates.length < IDLE_STATES_KEPT) idleStates.push(state);
}

/** The functions of `wippy`, bound to one process: where the guest refills its fuel, yields and hits max_memory. */
export function preemptFunctions(hooks: PreemptHooks, wrap: WrapWaiting = suspending): { yield_sync: () => number; yield_async: object; memory_limit: (delta: number) => never } {
  const { budget } = hooks;
  const yieldSync = () => budget.charge();
  const yieldAsync = (): number | Promise<number> => {
    const next = budget.charge();
    if (!budget.turnIsOver()) return next;
    hooks.onPreempt();
    return new Promise<number>((resolve, reject) => {
      setImmediate(() => {
        try {
          hooks.onResume();
          budget.resumed();
          resolve(next);
        } catch (err) {
          reject(err);
        }
      });
    });
  };
  return {
    yield_sync: yieldSync,
    yield_async: wrap(yieldAsync),
    memory_limit: (delta: number) => {
      throw budget.growLimit(delta);
    },
  };
}

/** A `wippy.state` at STATE_IDLE: an ended instance's, or a new one. */
function idleState(): WebAssembly.Global {
  return idleStates.pop() ?? new WebAssembly.Global({ value: "i32", mutable: true }, STATE_IDLE);
}

/**
 * The globals of `wippy` for an instance that processes take in turn: its reset gives
 * the fuel counter and max_pages each process's own, so these only start it.
 */
export function reusableGlobals(budget: Budget): { state: WebAssembly.Global; max_pages: WebAssembly.Global; fuel: WebAssembly.Global } {
  return { state: idleState(), max_pages: constant(budget.maxPages), fuel: constant(0) };
}

export function preemptImports(hooks: PreemptHooks): Record<string, unknown> & { state: WebAssembly.Global; memory?: WebAssembly.Memory } {
  const { budget } = hooks;
  return {
    // one per process, shared by its core modules: a trap can leave it set (its guards never
    // restore it), which must not reach any other process
    state: idleState(),
    max_pages: constant(budget.maxPages),
    fuel: firstGrant(budget),
    ...preemptFunctions(hooks),
  };
}
