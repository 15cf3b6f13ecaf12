// A worker thread of a process host (section 8): the same WASM process driver,
// WASI host, JSPI suspension, fuel and limits as the main thread, for the
// processes the main thread places here. Programs arrive compiled; pids,
// monitors, links, stdio and folder locks stay with the main thread.

import { parentPort, workerData } from "node:worker_threads";
import type { ProcessMachineEvent } from "../../machines/process.ts";
import { wasmProcessIO } from "../guest/process-io.ts";
import { LuaProcess } from "../lua/lua-process.ts";
import { ProcessError } from "../process/exit.ts";
import type { IOContext, Stdio } from "../process/io.ts";
import { MemoryPool } from "../process/memory-pool.ts";
import { WasmProcess, type WasmHost, type WasmProcessDeps } from "../process/wasm-process.ts";
import type { Limits, LuaEntry, Registry, WasmEntry } from "../registry/types.ts";
import { componentImports } from "../wasi/component-host.ts";
import { createCoreImports } from "../wasi/core-host.ts";
import { folderLocks } from "../wasi/sandbox/lock.ts";
import type { Program } from "../wasm/program.ts";
import { Channel } from "./channel.ts";
import { programFrom } from "./programs.ts";
import { fromWireError, wireEvent, type ToMain, type ToWorker } from "./protocol.ts";
import { WorkerTable } from "./worker-table.ts";

export interface WorkerInit {
  thread: number;
  registry: Registry;
  env: Record<string, string | undefined>;
  host: { id: string; limits: Limits; preempt: boolean };
  hasStdin: boolean;
}

/** Guest output in flight to the main thread before a writer waits (per stream of this worker). */
const OUTPUT_WINDOW = 64 * 1024;

const init = workerData as WorkerInit;
const port = parentPort!;

let inspecting = false;
/** Processes whose state changed since the last batch (coalesced while nobody inspects). */
const moved = new Set<WasmProcess>();
const main = new Channel<ToMain>(port, () => {
  for (const proc of moved) main.post({ t: "state", pid: proc.pid, state: proc.state(), memory: proc.memory() });
  moved.clear();
});
const table = new WorkerTable(main);

const host: WasmHost = { id: init.host.id, limits: init.host.limits, preempt: init.host.preempt, memoryPool: new MemoryPool(), release() {} };

const programs = new Map<string, Promise<Program>>();
const ready = new Map<string, Program>();
const programKey = (entry: WasmEntry, variant: string) => `${entry.id}\0${variant}`;
const imports = { core: createCoreImports(), component: componentImports };

const deps: WasmProcessDeps = {
  table,
  loader: {
    peek: (entry, variant = "preempt") => ready.get(programKey(entry, variant)),
    load: (entry, variant = "preempt") =>
      programs.get(programKey(entry, variant)) ?? Promise.reject(new ProcessError("spawn", `${entry.id}: its program was not sent to worker ${init.thread}`)),
  },
  makeIO: (proc, args) => wasmProcessIO(proc, args, io, core),
  tree: { inspected: false },
  onTransition: (proc: WasmProcess, event: ProcessMachineEvent) => {
    if (inspecting) main.post({ t: "transition", pid: proc.pid, event, memory: proc.memory() });
    else {
      moved.add(proc);
      main.schedule();
    }
  },
};

const core = {
  table,
  answersLater: true,
  spawn: (entry: string, hostId: string, args: unknown[], opts: { monitor?: string; link?: string }) =>
    main.request<string>((id) => ({ t: "spawn", id, entry, host: hostId, args, opts })),
};

/** One stream's output to the main thread: a writer waits while more than the window is unacknowledged. */
class OutputStream {
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  readonly #stream: "stdout" | "stderr";
  constructor(stream: "stdout" | "stderr") {
    this.#stream = stream;
  }
  write(pid: string, chunk: Uint8Array): void | Promise<void> {
    const n = chunk.length;
    this.#inFlight += n;
    // copied now: the guest may reuse its buffer before the batch goes
    void main.request<void>((id) => ({ t: "out", id, pid, stream: this.#stream, chunk: chunk.slice() })).finally(() => {
      this.#inFlight -= n;
      if (this.#inFlight <= OUTPUT_WINDOW) for (const w of this.#waiters.splice(0)) w();
    });
    if (this.#inFlight <= OUTPUT_WINDOW) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

const stdout = new OutputStream("stdout");
const stderr = new OutputStream("stderr");
const stdio: Stdio = {
  stdout: (pid, chunk) => stdout.write(pid, chunk),
  stderr: (pid, chunk) => stderr.write(pid, chunk),
  ...(init.hasStdin ? { stdin: (pid: string) => main.request<Uint8Array | null>((id) => ({ t: "stdin", id, pid })) } : {}),
};
const io: IOContext = { env: init.env, registry: init.registry, stdio };

// a path check and the operation it guards hold the main thread's lock, whichever thread runs them
folderLocks.delegate(async (folders, signal, op) => {
  signal?.throwIfAborted();
  const lock = await main.request<number>((id) => ({ t: "lock", id, folders: [...folders] }));
  try {
    signal?.throwIfAborted();
    return await op();
  } finally {
    main.post({ t: "unlock", lock });
  }
});

function handle(msg: ToWorker): void {
  switch (msg.t) {
    case "program": {
      const p = programFrom(msg.program, imports);
      p.then((program) => ready.set(msg.key, program), () => {});
      programs.set(msg.key, p);
      return;
    }
    case "spawn": {
      const entry = init.registry.entries.get(msg.entry);
      if (!entry) {
        main.post({ t: "exit", pid: msg.pid, result: { error: { kind: "spawn", message: `${msg.entry}: not in worker ${init.thread}'s registry` } } });
        return;
      }
      const proc = msg.kind === "lua"
        ? new LuaProcess(deps, entry as LuaEntry, host, msg.pid, undefined)
        : new WasmProcess(deps, entry as WasmEntry, host, msg.pid, undefined);
      table.add(proc);
      proc.start(msg.args);
      return;
    }
    case "deliver": {
      const rec = table.get(msg.pid);
      const outcome = rec ? rec.mailbox.deliver(wireEvent(msg.event)) : "closed";
      if (msg.seq !== undefined) main.post({ t: "ack", seq: msg.seq, outcome, capacity: rec?.mailbox.capacity ?? 0 });
      return;
    }
    case "kill":
      table.get(msg.pid)?.kill(msg.error);
      return;
    case "cancelled":
      table.get(msg.pid)?.cancelled(msg.from, msg.reason);
      return;
    case "reply":
      main.settle(msg.id, msg.error ? fromWireError(msg.error) : undefined, msg.value);
      return;
    case "inspect":
      inspecting = msg.on;
      return;
  }
}

port.on("message", (batch: ToWorker[]) => {
  for (const msg of batch) handle(msg);
});
