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
import { InstancePool } from "../process/instance-pool.ts";
import { MemoryPool } from "../process/memory-pool.ts";
import { WasmProcess, type WasmHost, type WasmProcessDeps } from "../process/wasm-process.ts";
import type { Limits, LuaEntry, Registry, WasmEntry } from "../registry/types.ts";
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

const init = workerData as WorkerInit;
const port = parentPort!;

let inspecting = false;
/**
 * Processes whose state changed since the last batch, coalesced while nobody
 * inspects: they ride along with the next batch, or go on their own after at
 * most STATE_EVERY_MS (a guest yielding every few milliseconds should not wake
 * the main thread each time).
 */
const moved = new Set<WasmProcess>();
const STATE_EVERY_MS = 20;
let stateTimer: ReturnType<typeof setTimeout> | undefined;
const main = new Channel<ToMain>(port, () => {
  for (const proc of moved) main.post({ t: "state", pid: proc.pid, state: proc.state(), memory: proc.memory() });
  moved.clear();
});
const table = new WorkerTable(main);

const host: WasmHost = { id: init.host.id, limits: init.host.limits, preempt: init.host.preempt, memoryPool: new MemoryPool(), instancePool: new InstancePool(), release() {} };

const programs = new Map<string, Promise<Program>>();
const ready = new Map<string, Program>();
const programKey = (entry: WasmEntry, variant: string) => `${entry.id}\0${variant}`;
// the component host (preview2) is loaded with the first component: a worker of core modules starts sooner
const imports = { core: createCoreImports(), component: async () => (await import("../wasi/component-host.ts")).componentImports };

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
      stateTimer ??= setTimeout(() => {
        stateTimer = undefined;
        main.schedule();
      }, STATE_EVERY_MS);
    }
  },
};

const core = {
  table,
  answersLater: true,
  spawn: (entry: string, hostId: string, args: unknown[], opts: { monitor?: string; link?: string }) =>
    main.request<string>((id) => ({ t: "spawn", id, entry, host: hostId, args, opts })),
};

/**
 * Guest output goes to the main thread's Stdio, and the write waits until the sink
 * there has taken it: the same backpressure as on the main thread (a full sink
 * holds the writer; a failing one is the writer's EIO).
 */
const output = (stream: "stdout" | "stderr") => (pid: string, chunk: Uint8Array): Promise<void> =>
  // copied now: the guest may reuse its buffer before the batch goes
  main.request<void>((id) => ({ t: "out", id, pid, stream, chunk: chunk.slice() }));

const stdio: Stdio = {
  stdout: output("stdout"),
  stderr: output("stderr"),
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
    case "peer":
      table.peers.add(msg.thread, msg.port);
      return;
  }
}

port.on("message", (batch: ToWorker[]) => {
  for (const msg of batch) handle(msg);
});
main.post({ t: "ready" });
