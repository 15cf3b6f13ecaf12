// What the observer page shows, as plain data: the supervision trees, every process
// with its state, memory and node, the cluster's nodes, and the last exits with their reasons. Rebuilt from the
// runtime on demand; exits are kept as they happen.

import { runtimeInternals, type Runtime } from "../runtime.ts";
import type { ExitResult } from "../process/exit.ts";
import { nodeOf } from "../process/pid.ts";
import type { NodeInfo } from "../cluster/node.ts";
import type { ProcessState } from "../../machines/process.ts";
import { SupervisorProcess } from "../supervision/supervisor-process.ts";

export interface TreeNode {
  id: string;
  pid: string | null;
  kind: "supervisor" | "child";
  /** The child's own state in its supervisor (running, restarting, stopped…) or the supervisor's state. */
  status: string;
  /** The process machine's state, for a running WASM child. */
  state?: ProcessState;
  entry?: string | null;
  restarts: number;
  memory?: number;
  children?: TreeNode[];
}

export interface ProcessRow {
  pid: string;
  entry: string | null;
  /** The node the pid names; null outside a cluster. */
  node: string | null;
  host: string;
  kind: string;
  thread: number;
  state: ProcessState;
  memory: number;
  startedAt: number;
}

export interface ExitRow {
  at: number;
  pid: string;
  entry: string;
  kind: string;
  message: string;
}

/** A thread and how many processes run on it (0: the main thread; workers numbered across the runtime). */
export interface ThreadRow {
  thread: number;
  /** The host whose worker it is; null for the main thread. */
  host: string | null;
  processes: number;
}

export interface Observation {
  at: number;
  /** The cluster's nodes, this one included (`runtime.nodes()`); empty outside a cluster. */
  nodes: NodeInfo[];
  trees: TreeNode[];
  processes: ProcessRow[];
  threads: ThreadRow[];
  exits: ExitRow[];
  totals: { processes: number; stepping: number; suspended: number; exits: number; restarts: number; memory: number };
}

const MAX_EXITS = 50;

export class RuntimeObserver {
  readonly #runtime: Runtime;
  readonly #exits: ExitRow[] = [];
  #exitCount = 0;
  readonly #off: () => void;

  constructor(runtime: Runtime) {
    this.#runtime = runtime;
    this.#off = runtimeInternals(runtime).table.onExit((pid, result, record) => {
      if (record.kind === "handle") return; // callers' own mailboxes
      this.#exitCount++;
      this.#exits.unshift({ at: Date.now(), pid, entry: record.entry ?? "(anonymous actor)", ...describe(result) });
      if (this.#exits.length > MAX_EXITS) this.#exits.length = MAX_EXITS;
    });
  }

  close(): void {
    this.#off();
  }

  snapshot(): Observation {
    const processes: ProcessRow[] = this.#runtime.processes().map((p) => ({ ...p, node: nodeOf(p.pid) ?? null }));
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    const trees = runtimeInternals(this.#runtime).supervision.running().map((s) => this.#tree(s, byPid));
    let restarts = 0;
    const count = (n: TreeNode) => {
      restarts += n.restarts;
      n.children?.forEach(count);
    };
    trees.forEach(count);
    return {
      at: Date.now(),
      nodes: this.#runtime.nodes(),
      trees,
      processes,
      threads: this.#threads(processes),
      exits: [...this.#exits],
      totals: {
        processes: processes.length,
        stepping: processes.filter((p) => p.state === "stepping").length,
        suspended: processes.filter((p) => p.state === "suspended").length,
        exits: this.#exitCount,
        restarts,
        memory: processes.reduce((n, p) => n + p.memory, 0),
      },
    };
  }

  /** The main thread, then every worker (idle ones too), with its count of processes. */
  #threads(processes: ProcessRow[]): ThreadRow[] {
    const count = new Map<number, number>();
    for (const p of processes) count.set(p.thread, (count.get(p.thread) ?? 0) + 1);
    const rows: ThreadRow[] = [{ thread: 0, host: null, processes: count.get(0) ?? 0 }];
    for (const [host, pool] of runtimeInternals(this.#runtime).pools) {
      for (const t of pool.threads) rows.push({ thread: t.thread, host, processes: count.get(t.thread) ?? 0 });
    }
    return rows.sort((a, b) => a.thread - b.thread);
  }

  #tree(sup: SupervisorProcess, byPid: Map<string, ProcessRow>): TreeNode {
    return {
      id: sup.id,
      pid: sup.pid,
      kind: "supervisor",
      status: sup.supervisorState,
      restarts: 0,
      children: sup.children().map((c) => {
        const rec = c.pid ? runtimeInternals(this.#runtime).table.get(c.pid) : undefined;
        if (rec instanceof SupervisorProcess) return { ...this.#tree(rec, byPid), id: c.id, restarts: c.restarts };
        const proc = c.pid ? byPid.get(c.pid) : undefined;
        return {
          id: c.id,
          pid: c.pid,
          kind: "child",
          status: c.state,
          restarts: c.restarts,
          ...(proc ? { state: proc.state, entry: proc.entry, memory: proc.memory } : {}),
        };
      }),
    };
  }
}

function describe(result: ExitResult): { kind: string; message: string } {
  if ("error" in result) return { kind: result.error.kind, message: result.error.message };
  return { kind: "normal", message: `returned ${JSON.stringify(result.value) ?? String(result.value)}` };
}
