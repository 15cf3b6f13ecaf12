// Components: transpiled by jco (cached on disk by hash), instantiated per
// process with the WASI imports the entry grants, called with WIT values.

import { ProcessError } from "../process/exit.ts";
import { firstGrant, isInstrumented, preemptImports, type MemoryShape } from "./preempt-imports.ts";
import { isWasiCommand, type Instance, type Program, type ProcessIO } from "./program.ts";
import { componentStarts } from "./start-gate.ts";
import type { TranspiledComponent } from "./transpile-cache.ts";
import { coerceArgs, signatureKey } from "./wit.ts";

/** Builds the import object for one instance from what the component asks for. */
export type ComponentImportProvider = (io: ProcessIO, requested: string[]) => Record<string, unknown>;

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const unversioned = (s: string) => s.replace(/@[^/#]*$/, "");

type Fn = (...args: unknown[]) => unknown;

/** `name`, `iface#func`, `ns:pkg/iface#func`, with or without a version. */
export function findExport(exports: Record<string, unknown>, method: string): Fn | undefined {
  const hash = method.indexOf("#");
  if (hash < 0) {
    const f = exports[camel(method)] ?? exports[method];
    return typeof f === "function" ? (f as Fn) : undefined;
  }
  const iface = unversioned(method.slice(0, hash));
  const func = method.slice(hash + 1);
  for (const [key, value] of Object.entries(exports)) {
    if (typeof value !== "object" || value === null) continue;
    const k = unversioned(key);
    if (k === iface || k.endsWith(`/${iface}`) || iface.endsWith(`/${k}`)) {
      const f = (value as Record<string, unknown>)[camel(func)];
      if (typeof f === "function") return f as Fn;
    }
  }
  return undefined;
}

/** Every callable `method` name, for error messages. */
export function listMethods(exports: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(exports)) {
    if (typeof value === "function") names.push(key);
    else if (typeof value === "object" && value !== null && !key.includes(":")) {
      for (const [fn, f] of Object.entries(value)) if (typeof f === "function") names.push(`${key}#${fn}`);
    }
  }
  return names;
}

/** jco throws a `result` err as ComponentError carrying `payload`. */
function asResultError(err: unknown): ProcessError | undefined {
  if (err instanceof Error && err.constructor.name === "ComponentError" && "payload" in err) {
    const payload = (err as { payload: unknown }).payload;
    const message = typeof payload === "string" ? payload : JSON.stringify(payload) ?? String(payload);
    return new ProcessError("exit", message, { value: payload });
  }
  return undefined;
}

export class ComponentProgram implements Program {
  readonly kind = "component" as const;
  readonly hash: string;
  readonly imports: string[];
  readonly methods: string[];
  readonly transpiled: TranspiledComponent;
  readonly #provideImports: ComponentImportProvider;

  constructor(hash: string, transpiled: TranspiledComponent, provideImports: ComponentImportProvider) {
    this.hash = hash;
    this.transpiled = transpiled;
    this.imports = transpiled.imports;
    this.methods = transpiled.exports.filter(([, k]) => k === "function").map(([n]) => n);
    this.#provideImports = provideImports;
  }

  instantiate(io: ProcessIO): Promise<Instance> {
    return componentStarts.run(() => this.#instantiate(io));
  }

  async #instantiate(io: ProcessIO): Promise<Instance> {
    const memories: WebAssembly.Memory[] = [];
    const imports = this.#provideImports(io, this.imports);
    const { coreModules } = this.transpiled;
    // one budget and one `state` for all the component's core modules
    const wippy = preemptImports(io);
    const pooled: { memory: WebAssembly.Memory; shape: MemoryShape }[] = [];
    /** The guest is on the stack (a call is under way): its memories cannot go back to the pool. */
    let running = false;
    const exports = await this.transpiled.instantiate(
      (name) => {
        const m = coreModules.get(name);
        if (!m) throw new Error(`transpiled component is missing ${name}`);
        return m;
      },
      imports,
      async (module, imp) => {
        // each core module starts with its own first grant, and the budget counts each
        // and a core module whose memory was made an import gets one from the host's pool
        const shape = this.transpiled.memoryShapes.get(module);
        if (shape) io.budget.checkPages(shape.initial); // refused before it is reserved
        const memory = shape ? (io.memoryPool?.take(shape.initial, shape.maximum) ?? new WebAssembly.Memory(shape)) : undefined;
        if (memory && shape) pooled.push({ memory, shape });
        const own = isInstrumented(module)
          ? { ...imp, wippy: { ...wippy, fuel: firstGrant(io.budget), ...(memory ? { memory } : {}) } }
          : imp;
        const instance = await WebAssembly.instantiate(module, own as WebAssembly.Imports);
        for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
        return instance;
      },
    );
    io.budget.checkPages(memories.reduce((n, m) => n + m.buffer.byteLength, 0) / 65_536);
    const method = io.entry.method;
    const fn = findExport(exports, method);
    if (!fn) {
      throw new ProcessError("spawn", `method ${method} is not exported by the component (exports: ${listMethods(exports).join(", ") || "none"})`);
    }
    const params = this.transpiled.signatures[signatureKey(method)];
    const command = isWasiCommand(method);
    return {
      call: async (args) => {
        if (command) args = [];
        else if (params) args = coerceArgs(args, params, method);
        else if (args.length !== fn.length) {
          throw new ProcessError("spawn", `${method} takes ${fn.length} argument${fn.length === 1 ? "" : "s"}, got ${args.length}`);
        }
        running = true;
        try {
          const value = await fn(...args);
          return command ? 0 : value; // run's ok: a command that ended normally
        } catch (err) {
          // A WASI command that exits with status 0 ends normally (SPEC section 3).
          if (err instanceof ProcessError && err.kind === "exit" && err.code === 0) return 0;
          if (command && asResultError(err)) throw new ProcessError("exit", "exited with status 1", { code: 1 });
          throw asResultError(err) ?? err;
        } finally {
          running = false;
        }
      },
      memoryBytes: () => memories.reduce((n, m) => n + m.buffer.byteLength, 0),
      dispose: () => {
        // killed mid-call: the stack may still unwind through these memories, so they are not reused
        for (const { memory, shape } of pooled) {
          if (running) io.memoryPool?.discard();
          else io.memoryPool?.give(memory, shape.initial, shape.maximum);
        }
      },
    };
  }
}
