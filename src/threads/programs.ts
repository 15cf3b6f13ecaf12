// Loaded programs crossing to a worker thread: the compiled WebAssembly.Modules
// themselves (V8 shares their code between threads: nothing is compiled again),
// and what was read from the binary beside them. The main thread loads and checks
// every binary (hash, capabilities); a worker only instantiates.

import { pathToFileURL } from "node:url";
import { join } from "node:path";
import type { CoreInfo } from "../wasm/binary.ts";
import { ComponentProgram, type ComponentImportProvider } from "../wasm/component.ts";
import { CoreProgram, type CoreImportProvider } from "../wasm/core.ts";
import type { MemoryShape } from "../wasm/preempt-imports.ts";
import type { Program } from "../wasm/program.ts";
import type { TranspiledComponent } from "../wasm/transpile-cache.ts";

export type ProgramDescriptor =
  | { kind: "core"; hash: string; module: WebAssembly.Module; info: CoreInfo }
  | {
      kind: "component";
      hash: string;
      dir: string;
      cores: [name: string, module: WebAssembly.Module, shape: MemoryShape | undefined][];
      imports: string[];
      exports: TranspiledComponent["exports"];
      signatures: TranspiledComponent["signatures"];
    };

/** What a worker needs to instantiate `program` (main thread). */
export function describeProgram(program: Program): ProgramDescriptor {
  if (program instanceof CoreProgram) return { kind: "core", hash: program.hash, module: program.module, info: program.info };
  if (program instanceof ComponentProgram) {
    const t = program.transpiled;
    return {
      kind: "component",
      hash: program.hash,
      dir: t.dir,
      cores: [...t.coreModules].map(([name, module]) => [name, module, t.memoryShapes.get(module)]),
      imports: t.imports,
      exports: t.exports,
      signatures: t.signatures,
    };
  }
  throw new TypeError(`a ${program.kind} program cannot move to a worker thread`);
}

/** The program again, on a worker thread; a component's generated JS is imported from the same cache folder. */
export async function programFrom(d: ProgramDescriptor, imports: { core: CoreImportProvider; component: () => Promise<ComponentImportProvider> }): Promise<Program> {
  if (d.kind === "core") return new CoreProgram(d.hash, d.module, d.info, imports.core);
  const mod = (await import(pathToFileURL(join(d.dir, "component.js")).href)) as Pick<TranspiledComponent, "instantiate">;
  const coreModules = new Map<string, WebAssembly.Module>();
  const memoryShapes = new WeakMap<WebAssembly.Module, MemoryShape>();
  for (const [name, module, shape] of d.cores) {
    coreModules.set(name, module);
    if (shape) memoryShapes.set(module, shape);
  }
  const transpiled: TranspiledComponent = {
    dir: d.dir,
    instantiate: mod.instantiate,
    coreModules,
    memoryShapes,
    imports: d.imports,
    exports: d.exports,
    signatures: d.signatures,
    cached: true,
  };
  return new ComponentProgram(d.hash, transpiled, await imports.component());
}
