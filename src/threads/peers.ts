// Direct lines between two worker threads. A guest's first message to a process on
// another worker goes through the main thread, which answers with where that
// process lives and hands both workers the two ends of a MessageChannel; later
// messages to it go straight there, and its worker acks them the same way. A
// guest's send waits for its ack, so a pair's messages keep their order whichever
// way each went, and an EXIT (always through the main thread) never overtakes one.

import type { MessagePort } from "node:worker_threads";
import { MailboxFullError } from "../process/exit.ts";
import type { ProcessTable } from "../process/table.ts";
import type { Wire } from "../process/wire.ts";
import { Channel } from "./channel.ts";
import { fromPlainWire, plainWire, type PlainWire } from "./protocol.ts";

type PeerMsg =
  | { t: "deliver"; id: number; from: string; to: string; topic: string; payload: PlainWire }
  | { t: "ack"; id: number; outcome: "queued" | "full" | "closed"; capacity: number };

/** How many pids a worker remembers the place of (the oldest is forgotten first). */
const REMEMBERED = 10_000;

export class Peers {
  readonly #table: ProcessTable;
  readonly #lines = new Map<number, Channel<PeerMsg>>();
  /** Pid → the worker it runs on. */
  readonly #located = new Map<string, number>();

  constructor(table: ProcessTable) {
    this.#table = table;
  }

  /** The main thread handed over this worker's end of a line to worker `thread`. */
  add(thread: number, port: MessagePort): void {
    const line = new Channel<PeerMsg>(port);
    this.#lines.set(thread, line);
    port.on("message", (batch: PeerMsg[]) => {
      for (const msg of batch) this.#handle(line, msg);
    });
    // the other worker is gone: what waits on it is answered `false` (its processes went with it)
    port.on("close", () => {
      this.#lines.delete(thread);
      line.close(new Error(`worker ${thread} has stopped`));
      for (const [pid, at] of this.#located) if (at === thread) this.#located.delete(pid);
    });
  }

  /** `pid` runs on worker `thread`. */
  locate(pid: string, thread: number): void {
    if (!this.#lines.has(thread)) return;
    this.#located.set(pid, thread);
    if (this.#located.size > REMEMBERED) this.#located.delete(this.#located.keys().next().value!);
  }

  /** A message straight to `to`'s worker, or undefined when its place is not known here. */
  send(from: string, to: string, topic: string, payload: Wire): Promise<boolean> | undefined {
    const thread = this.#located.get(to);
    const line = thread === undefined ? undefined : this.#lines.get(thread);
    if (!line) return undefined;
    return line.request<{ outcome: string; capacity: number }>((id) => ({ t: "deliver", id, from, to, topic, payload: plainWire(payload) })).then(
      (ack) => {
        if (ack.outcome === "full") throw new MailboxFullError(to, ack.capacity);
        if (ack.outcome !== "queued") this.#located.delete(to); // it has ended
        return ack.outcome === "queued";
      },
      () => false,
    );
  }

  #handle(line: Channel<PeerMsg>, msg: PeerMsg): void {
    if (msg.t === "ack") {
      line.settle(msg.id, undefined, msg);
      return;
    }
    const rec = this.#table.get(msg.to);
    const outcome = rec ? rec.mailbox.deliver({ type: "MESSAGE", from: msg.from, topic: msg.topic, payload: fromPlainWire(msg.payload) }) : "closed";
    line.post({ t: "ack", id: msg.id, outcome, capacity: rec?.mailbox.capacity ?? 0 });
  }
}
