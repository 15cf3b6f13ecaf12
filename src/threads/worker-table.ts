// The process table of a worker thread: the processes that run here. A message
// between two of them is delivered here at once; everything else goes to the
// main thread, which holds every pid, monitor and link (section 8).

import { checkTopic } from "../process/events.ts";
import type { ExitResult } from "../process/exit.ts";
import { ProcessTable } from "../process/table.ts";
import { toWire, Wire } from "../process/wire.ts";
import type { Channel } from "./channel.ts";
import { Peers } from "./peers.ts";
import { plainWire, type SendAnswer, type ToMain } from "./protocol.ts";

export class WorkerTable extends ProcessTable {
  readonly #main: Channel<ToMain>;
  /** Direct lines to the other workers. */
  readonly peers: Peers;

  constructor(main: Channel<ToMain>) {
    super();
    this.#main = main;
    this.peers = new Peers(this);
  }

  /** Here at once; to a process whose worker is known, straight there; else through the main thread (which says where it is). */
  override send(from: string, to: string, topic: string, payload: unknown): boolean | Promise<boolean> {
    if (this.get(to)) return super.send(from, to, topic, payload);
    checkTopic(topic);
    const wire = payload instanceof Wire ? payload : toWire(payload);
    const direct = this.peers.send(from, to, topic, wire);
    if (direct) return direct;
    return this.#main.request<SendAnswer>((id) => ({ t: "send", id, from, to, topic, payload: plainWire(wire) })).then((answer) => {
      if (answer.at !== undefined) this.peers.locate(to, answer.at);
      return answer.sent;
    });
  }

  override monitor(watcher: string, target: string): void {
    this.#main.post({ t: "op", op: "monitor", a: watcher, b: target });
  }

  override unmonitor(watcher: string, target: string): void {
    this.#main.post({ t: "op", op: "unmonitor", a: watcher, b: target });
  }

  override link(a: string, b: string): Promise<void> {
    return this.#main.request<void>((id) => ({ t: "link", id, a, b }));
  }

  override unlink(a: string, b: string): void {
    this.#main.post({ t: "op", op: "unlink", a, b });
  }

  override terminate(from: string, pid: string): void {
    this.#main.post({ t: "op", op: "terminate", a: from, b: pid });
  }

  override cancel(from: string, pid: string, reason: unknown): void {
    this.#main.post({ t: "cancel", from, pid, reason: String(reason) });
  }

  override setTrapLinks(pid: string, trap: boolean): void {
    this.#main.post({ t: "trap-links", pid, trap });
  }

  /** The process ended here: the main thread tells its monitors and links. */
  override exit(pid: string, result: ExitResult): void {
    if (!this.get(pid)) return;
    super.exit(pid, result);
    this.#main.post({ t: "exit", pid, result });
  }
}
