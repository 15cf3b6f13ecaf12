// Core modules: compiled once per hash, instantiated per process (or, when the reset
// rewrite qualified the module, an ended process's instance reset: reuse.ts), called
// with numbers. Arguments are checked against the exported signature so a wrong
// count or type is a clear spawn error rather than a silent NaN → 0.

import { ProcessError } from "../process/exit.ts";
import type { CoreInfo, FuncSignature, ValType } from "./binary.ts";
import { isInstrumented, pooledMemoryShape, preemptFunctions, preemptImports, releaseState, reusableGlobals, type MemoryShape } from "./preempt-imports.ts";
import { isWasiCommand, waiting, type CoreHostBinding, type Instance, type Program, type ProcessIO, type WrapWaiting } from "./program.ts";
import { RESET_EXPORT } from "./reset.ts";
import { ImportBoard, ReusableCore } from "./reuse.ts";

const I32_MIN = -(2 ** 31);
const U32_MAX = 2 ** 32 - 1;

function convertArg(value: unknown, type: ValType, position: number, method: string): number | bigint {
  const where = `argument ${position} of ${method}`;
  let v = value;
  if (typeof v === "string") {
    const t = v.trim();
    if (t === "" || Number.isNaN(Number(t))) {
      throw new ProcessError("spawn", `${where} must be a number (${type}), got ${JSON.stringify(value)}`);
    }
    v = type === "i64" && /^-?\d+$/.test(t) ? BigInt(t) : Number(t);
  }
  if (typeof v === "boolean") v = v ? 1 : 0;
  switch (type) {
    case "i32":
      if (typeof v === "bigint") v = Number(v);
      if (typeof v !== "number" || !Number.isInteger(v) || v < I32_MIN || v > U32_MAX) {
        throw new ProcessError("spawn", `${where} must be a 32-bit integer (i32), got ${describe(value)}`);
      }
      return v | 0;
    case "i64":
      if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
      if (typeof v === "bigint") return BigInt.asIntN(64, v);
      throw new ProcessError("spawn", `${where} must be a 64-bit integer (i64), got ${describe(value)}`);
    case "f32":
    case "f64":
      if (typeof v === "bigint") return Number(v);
      if (typeof v !== "number") {
        throw new ProcessError("spawn", `${where} must be a number (${type}), got ${describe(value)}`);
      }
      return v;
    default:
      throw new ProcessError("spawn", `${where} has type ${type}, which cannot be passed from the host`);
  }
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "a list" : "an object";
}

/** i64 results come back as BigInt; keep them exact but plain where they fit. */
function convertResult(v: unknown): unknown {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(convertResult);
  return v;
}

export function convertArgs(args: unknown[], sig: FuncSignature, method: string): (number | bigint)[] {
  if (args.length !== sig.params.length) {
    throw new ProcessError(
      "spawn",
      `${method} takes ${sig.params.length} argument${sig.params.length === 1 ? "" : "s"} (${sig.params.join(", ") || "none"}), got ${args.length}`,
    );
  }
  return args.map((a, i) => convertArg(a, sig.params[i]!, i + 1, method));
}

/**
 * Binds the host imports a core module asks for to one process. `wrapWaiting` says how a
 * function that may wait is handed out (default: WebAssembly.Suspending; see WrapWaiting).
 */
export type CoreImportProvider = (io: ProcessIO, info: CoreInfo, wrapWaiting?: WrapWaiting) => CoreHostBinding;

const PAGE = 65_536;

export class CoreProgram implements Program {
  readonly kind = "core" as const;
  readonly hash: string;
  readonly module: WebAssembly.Module;
  readonly info: CoreInfo;
  readonly imports: string[];
  readonly methods: string[];
  readonly #provideImports: CoreImportProvider | undefined;
  /** Instrumented: takes the `wippy` imports and is entered through promising. */
  readonly #preempt: boolean;
  /** The memory's shape when the instrumented module imports it (`wippy.memory`). */
  readonly #pooledShape: MemoryShape | undefined;
  /** The reset rewrite qualified it: an ended process's instance can serve the next one (reuse.ts). */
  readonly #resettable: boolean;
  /** Its function imports, in order (the trampolines of a reused instance). */
  readonly #functionImports: { module: string; name: string }[];

  constructor(hash: string, module: WebAssembly.Module, info: CoreInfo, provideImports?: CoreImportProvider) {
    this.hash = hash;
    this.module = module;
    this.info = info;
    this.imports = info.imports.map((i) => `${i.module}.${i.name}`);
    this.methods = [...info.functions.keys()];
    this.#provideImports = provideImports;
    this.#preempt = isInstrumented(module);
    this.#pooledShape = pooledMemoryShape(module, info.memory);
    // the rewrite's export, not a guest's own of that name (the rewrite then adds none)
    this.#resettable = !info.functions.has(RESET_EXPORT) && WebAssembly.Module.exports(module).some((e) => e.name === RESET_EXPORT && e.kind === "function");
    this.#functionImports = WebAssembly.Module.imports(module).filter((i) => i.kind === "function").map(({ module, name }) => ({ module, name }));
  }

  /** True when its instances are reused (the reset rewrite qualified the module). */
  get reusable(): boolean {
    return this.#resettable;
  }

  instantiate(io: ProcessIO): Instance | Promise<Instance> {
    const method = io.entry.method;
    const sig = this.info.functions.get(method);
    if (!sig) {
      throw new ProcessError("spawn", `method ${method} is not an exported function (exports: ${this.methods.join(", ") || "none"})`);
    }
    // a memory past max_memory is refused before it is reserved (a declared 4 GiB would be)
    const own = this.info.memory;
    if (own && !own.imported) io.budget.checkPages(own.initial);
    return (this.#resettable && this.#fromPool(io, method, sig)) || this.#fresh(io, method, sig);
  }

  /** A new instance, for this process alone. */
  #fresh(io: ProcessIO, method: string, sig: FuncSignature): Instance | Promise<Instance> {
    const host = this.#provideImports?.(io, this.info);
    const preempt = this.#preempt;
    const wippy = preempt ? preemptImports(io) : undefined;
    // the module's memory, turned into an import at load: from the host's pool when it has one
    const shape = this.#pooledShape;
    const pooled = shape ? (io.memoryPool?.take(shape.initial, shape.maximum) ?? new WebAssembly.Memory(shape)) : undefined;
    if (wippy && pooled) wippy.memory = pooled;
    const imports = wippy ? { ...host?.imports, wippy } : host?.imports ?? {};
    let instance: WebAssembly.Instance;
    let memory: WebAssembly.Memory | undefined;
    try {
      instance = new WebAssembly.Instance(this.module, imports as WebAssembly.Imports);
      // its data segments are passive: the reset writes them (a module whose instances could not be reused)
      if (this.#resettable) (instance.exports[RESET_EXPORT] as (z: number, f: number, p: number) => number)(0, (wippy?.fuel as WebAssembly.Global | undefined)?.value ?? 0, io.budget.maxPages);
      const exported = instance.exports.memory;
      memory = exported instanceof WebAssembly.Memory ? exported : pooled;
      if (memory) {
        host?.bindMemory(memory);
        io.budget.checkPages(memory.buffer.byteLength / PAGE);
      }
    } catch (err) {
      host?.close();
      throw err; // a memory that an instantiation may have written to is not pooled
    }
    // A guest that may suspend (a waiting import, a preemption point) is entered through
    // promising: a suspending import called outside of it traps, even one that does not wait.
    const suspends = host?.suspends || preempt;
    const enter = (f: (...a: unknown[]) => unknown) => (suspends ? WebAssembly.promising(f) : f);
    const raw = instance.exports[method] as (...a: unknown[]) => unknown;
    const ready = new CoreInstance(enter(raw), sig, method, io, host, memory, pooled ? { memory: pooled, shape: shape! } : undefined, wippy?.state, undefined);
    const init = instance.exports._initialize;
    return typeof init === "function" && method !== "_initialize" ? initialize(ready, enter(init as () => unknown), host) : ready;
  }

  /**
   * An ended process's instance, reset, with its imports bound to this process; a new
   * reusable one when the pool has none. Undefined when the host binding cannot be
   * boarded (then the instance is made the usual way).
   */
  #fromPool(io: ProcessIO, method: string, sig: FuncSignature): Instance | Promise<Instance> | undefined {
    const host = this.#provideImports?.(io, this.info, waiting);
    const preempt = this.#preempt;
    const fns = preempt ? preemptFunctions(io, waiting) : undefined;
    const imports = (fns ? { ...host?.imports, wippy: fns } : (host?.imports ?? {})) as WebAssembly.Imports;
    const pool = io.instancePool;
    const { budget } = io;
    let core: ReusableCore | undefined;
    try {
      core = pool?.take<ReusableCore>(this);
      if (core && !core.board.bind(imports)) {
        pool!.discard();
        core = undefined;
      }
      const used = core !== undefined;
      core ??= this.#newCore(io, imports);
      if (!core) {
        host?.close();
        return undefined;
      }
      // a pooled instance's memory never grew (dispose checks), so its reset does not refuse
      if (!core.reset(used, preempt ? budget.firstGrant() : 0, budget.maxPages)) throw new Error("a reused instance's memory had grown");
      if (core.memory) {
        host?.bindMemory(core.memory);
        budget.checkPages(core.bytes / PAGE);
      }
    } catch (err) {
      host?.close();
      throw err; // an instance that an instantiation or a reset may have trapped in is not pooled
    }
    const suspends = host?.suspends || preempt;
    const shape = this.#pooledShape;
    const pooled = shape && core.memory ? { memory: core.memory, shape } : undefined;
    const ready = new CoreInstance(core.entry(method, suspends), sig, method, io, host, core.memory, pooled, core.state, { core, program: this });
    const hasInit = typeof core.instance.exports._initialize === "function" && method !== "_initialize";
    return hasInit ? initialize(ready, core.entry("_initialize", suspends), host) : ready;
  }

  /** A new instance whose imports are trampolines (reuse.ts); undefined when the binding's functions cannot be boarded. */
  #newCore(io: ProcessIO, imports: WebAssembly.Imports): ReusableCore | undefined {
    const board = ImportBoard.from(this.#functionImports, imports);
    if (!board) return undefined;
    const shape = this.#pooledShape;
    const memory = shape ? (io.memoryPool?.take(shape.initial, shape.maximum) ?? new WebAssembly.Memory(shape)) : undefined;
    let state: WebAssembly.Global | undefined;
    if (this.#preempt) {
      const globals = reusableGlobals(io.budget);
      state = globals.state;
      Object.assign((board.imports.wippy ??= {}), globals, memory ? { memory } : {});
    }
    const instance = new WebAssembly.Instance(this.module, board.imports as WebAssembly.Imports);
    const exported = instance.exports.memory;
    return new ReusableCore(instance, board, exported instanceof WebAssembly.Memory ? exported : memory, state);
  }
}

/** A reactor's constructors run once, before the first call, entered the same way as the method (they may write, and wait). */
function initialize(ready: CoreInstance, init: (...a: unknown[]) => unknown, host: CoreHostBinding | undefined): CoreInstance | Promise<CoreInstance> {
  const failed = (err: unknown): never => {
    host?.close();
    throw err; // a memory that an instantiation may have written to is not pooled
  };
  let initialized: unknown;
  try {
    initialized = init();
  } catch (err) {
    return failed(err);
  }
  return initialized instanceof Promise ? initialized.then(() => ready, failed) : ready;
}

/** One instance of a core module, bound to its process: a class, so a spawn makes no closures for it. */
class CoreInstance implements Instance {
  readonly #fn: (...a: unknown[]) => unknown;
  readonly #sig: FuncSignature;
  readonly #method: string;
  /** A WASI command: spawn arguments are its argv, and returning from it is status 0. */
  readonly #command: boolean;
  readonly #io: ProcessIO;
  readonly #host: CoreHostBinding | undefined;
  readonly #memory: WebAssembly.Memory | undefined;
  /** The memory it took from its host's pool (an instrumented module imports it). */
  readonly #pooled: { memory: WebAssembly.Memory; shape: MemoryShape } | undefined;
  readonly #state: WebAssembly.Global | undefined;
  /** A reusable instance, and the program whose pool it goes back to. */
  readonly #reuse: { core: ReusableCore; program: CoreProgram } | undefined;
  /** The guest is on the stack (a call is under way): its memory cannot go back to the pool. */
  #running = false;
  /** The method returned normally (no trap, no exit, no limit): only then may the instance serve another process. */
  #returned = false;

  constructor(
    fn: (...a: unknown[]) => unknown,
    sig: FuncSignature,
    method: string,
    io: ProcessIO,
    host: CoreHostBinding | undefined,
    memory: WebAssembly.Memory | undefined,
    pooled: { memory: WebAssembly.Memory; shape: MemoryShape } | undefined,
    state: WebAssembly.Global | undefined,
    reuse: { core: ReusableCore; program: CoreProgram } | undefined,
  ) {
    this.#fn = fn;
    this.#sig = sig;
    this.#method = method;
    this.#command = isWasiCommand(method);
    this.#io = io;
    this.#host = host;
    this.#memory = memory;
    this.#pooled = pooled;
    this.#state = state;
    this.#reuse = reuse;
  }

  call(args: unknown[]): unknown {
    const converted = convertArgs(this.#command ? [] : args, this.#sig, this.#method);
    let out: unknown;
    this.#running = true;
    try {
      out = this.#fn(...converted);
    } catch (err) {
      return this.#settle(err);
    }
    return out instanceof Promise ? out.then((v) => this.#done(v), (err: unknown) => this.#settle(err)) : this.#done(out);
  }

  memoryBytes(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  dispose(): void {
    this.#host?.close();
    // returned normally, nothing of it on a stack, its memory not grown: the next process may have it
    const reuse = this.#reuse;
    if (reuse && this.#returned && !this.#running && reuse.core.unchanged && this.#io.instancePool?.give(reuse.program, reuse.core)) return;
    const pooled = this.#pooled;
    const pool = this.#io.memoryPool;
    // killed while suspended: its stack may still unwind through this memory, so it is not reused
    if (pooled && !this.#running) pool?.give(pooled.memory, pooled.shape.initial, pooled.shape.maximum);
    else if (pooled) pool?.discard();
    if (this.#state && !this.#running) releaseState(this.#state);
  }

  // A WASI command that returns from _start has exited with status 0.
  #done(v: unknown): unknown {
    this.#running = false;
    this.#returned = true;
    return this.#command ? 0 : convertResult(v);
  }

  #settle(err: unknown): unknown {
    this.#running = false;
    const settled = this.#host?.settle?.(err);
    if (settled) return settled.value;
    throw err;
  }
}
