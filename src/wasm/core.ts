// Core modules: compiled once per hash, instantiated per process, called with
// numbers. Arguments are checked against the exported signature so a wrong
// count or type is a clear spawn error rather than a silent NaN → 0.

import { ProcessError } from "../process/exit.ts";
import type { CoreInfo, FuncSignature, ValType } from "./binary.ts";
import { isInstrumented, pooledMemoryShape, preemptImports, releaseState, type MemoryShape } from "./preempt-imports.ts";
import { isWasiCommand, type CoreHostBinding, type Instance, type Program, type ProcessIO } from "./program.ts";

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

/** Binds the host imports a core module asks for to one process. */
export type CoreImportProvider = (io: ProcessIO, info: CoreInfo) => CoreHostBinding;

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

  constructor(hash: string, module: WebAssembly.Module, info: CoreInfo, provideImports?: CoreImportProvider) {
    this.hash = hash;
    this.module = module;
    this.info = info;
    this.imports = info.imports.map((i) => `${i.module}.${i.name}`);
    this.methods = [...info.functions.keys()];
    this.#provideImports = provideImports;
    this.#preempt = isInstrumented(module);
    this.#pooledShape = pooledMemoryShape(module, info.memory);
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
      const exported = instance.exports.memory;
      memory = exported instanceof WebAssembly.Memory ? exported : pooled;
      if (memory) {
        host?.bindMemory(memory);
        io.budget.checkPages(memory.buffer.byteLength / 65_536);
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
    const ready = new CoreInstance(enter(raw), sig, method, io, host, memory, pooled ? { memory: pooled, shape: shape! } : undefined, wippy?.state);
    // A reactor's constructors run once, before the first call, entered the same way (they may write, and wait).
    const init = instance.exports._initialize;
    if (typeof init !== "function" || method === "_initialize") return ready;
    const failed = (err: unknown): never => {
      host?.close();
      throw err; // a memory that an instantiation may have written to is not pooled
    };
    let initialized: unknown;
    try {
      initialized = enter(init as () => unknown)();
    } catch (err) {
      return failed(err);
    }
    return initialized instanceof Promise ? initialized.then(() => ready, failed) : ready;
  }
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
  /** The guest is on the stack (a call is under way): its memory cannot go back to the pool. */
  #running = false;

  constructor(
    fn: (...a: unknown[]) => unknown,
    sig: FuncSignature,
    method: string,
    io: ProcessIO,
    host: CoreHostBinding | undefined,
    memory: WebAssembly.Memory | undefined,
    pooled: { memory: WebAssembly.Memory; shape: MemoryShape } | undefined,
    state: WebAssembly.Global | undefined,
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
    return this.#command ? 0 : convertResult(v);
  }

  #settle(err: unknown): unknown {
    this.#running = false;
    const settled = this.#host?.settle?.(err);
    if (settled) return settled.value;
    throw err;
  }
}
