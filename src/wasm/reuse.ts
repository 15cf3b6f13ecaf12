// An instance that processes take in turn (a module the reset rewrite qualified, see
// reset.ts). What belongs to one process is rebound, not recreated: the instance's
// function imports are trampolines, made once, that call the current process's host
// functions; its memory, globals and `state` stay with it and `__wippy_reset` puts them
// back as new; its exports are entered through the same promising wrappers each time.

import { RESET_EXPORT } from "./reset.ts";
import { Waiting } from "./program.ts";

type HostCallable = (...args: unknown[]) => unknown;

interface FunctionImport {
  module: string;
  name: string;
  /** Its trampoline is a WebAssembly.Suspending (the first binding's function may wait). */
  waits: boolean;
}

/** The function imports of a reused instance: trampolines to the current process's functions. */
export class ImportBoard {
  /** Trampolines by module and name, to instantiate with. */
  readonly imports: Record<string, Record<string, unknown>> = {};
  readonly #slots: HostCallable[] = [];
  readonly #keys: FunctionImport[] = [];

  /**
   * A board for `keys` (the module's function imports), starting with `first`'s
   * functions; undefined when one is neither a plain function nor Waiting.
   */
  static from(keys: readonly { module: string; name: string }[], first: WebAssembly.Imports): ImportBoard | undefined {
    const board = new ImportBoard();
    const slots = board.#slots;
    for (let i = 0; i < keys.length; i++) {
      const { module, name } = keys[i]!;
      const v = first[module]?.[name];
      const waits = v instanceof Waiting;
      if (!waits && typeof v !== "function") return undefined;
      slots.push(waits ? v.fn : (v as HostCallable));
      board.#keys.push({ module, name, waits });
      const trampoline = (...args: unknown[]): unknown => slots[i]!(...args);
      (board.imports[module] ??= {})[name] = waits ? new WebAssembly.Suspending(trampoline) : trampoline;
    }
    return board;
  }

  /** Points every trampoline at `imports`' functions; false when they do not fit (one may wait where the first could not). */
  bind(imports: WebAssembly.Imports): boolean {
    const keys = this.#keys;
    const slots = this.#slots;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const v = imports[key.module]?.[key.name];
      if (v instanceof Waiting) {
        if (!key.waits) return false;
        slots[i] = v.fn;
      } else if (typeof v === "function") slots[i] = v as HostCallable;
      else return false;
    }
    return true;
  }
}

type Reset = (zero: number, fuel: number, maxPages: number) => number;

/** One WebAssembly instance with what it keeps between processes. */
export class ReusableCore {
  readonly instance: WebAssembly.Instance;
  readonly board: ImportBoard;
  /** Its memory (imported from the host's pool, or its own). */
  readonly memory: WebAssembly.Memory | undefined;
  /** Its `wippy.state`, when instrumented. */
  readonly state: WebAssembly.Global | undefined;
  /** Bytes of its memory as instantiated: a grown memory cannot shrink, so such an instance is not reused. */
  readonly #initialBytes: number;
  readonly #reset: Reset;
  readonly #entries = new Map<string, (...a: unknown[]) => unknown>();

  constructor(instance: WebAssembly.Instance, board: ImportBoard, memory: WebAssembly.Memory | undefined, state: WebAssembly.Global | undefined) {
    this.instance = instance;
    this.board = board;
    this.memory = memory;
    this.state = state;
    this.#initialBytes = memory?.buffer.byteLength ?? 0;
    this.#reset = instance.exports[RESET_EXPORT] as Reset;
  }

  /** Bytes of its memory now. */
  get bytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /** Its memory has the size it was instantiated with. */
  get unchanged(): boolean {
    return this.bytes === this.#initialBytes;
  }

  /**
   * Puts memory (zeroed first when `used`), data segments and globals back as a new
   * instance has them, with `fuel` and `maxPages` for the next process. False when its
   * memory has grown (nothing is done then).
   */
  reset(used: boolean, fuel: number, maxPages: number): boolean {
    return this.#reset(used ? 1 : 0, fuel, maxPages) === 1;
  }

  /** The export `name`, entered through WebAssembly.promising when it may suspend; made once per instance. */
  entry(name: string, suspends: boolean): (...a: unknown[]) => unknown {
    const key = suspends ? name : `${name}\0sync`;
    let fn = this.#entries.get(key);
    if (!fn) {
      const raw = this.instance.exports[name] as (...a: unknown[]) => unknown;
      fn = suspends ? WebAssembly.promising(raw) : raw;
      this.#entries.set(key, fn);
    }
    return fn;
  }
}
