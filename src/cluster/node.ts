// This runtime as a node of a cluster over NATS (section 9). NATS carries every
// byte between nodes; this adds what the process core needs of other nodes
// (the table's Elsewhere): sends with their acks, monitors, links, cancel,
// terminate, EXIT and LINK_DOWN, remote spawns checked against `serve`, and
// heartbeats that tell which nodes are up. Everything one node sends another
// goes over one subject from one connection, so NATS keeps it in order.

import { connect, credsAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { readFileSync } from "node:fs";
import type { SpawnOptions } from "../process/api.ts";
import type { SystemEvent } from "../process/events.ts";
import { ProcessError, describeReason, type ExitError } from "../process/exit.ts";
import { newPid, nodeOf } from "../process/pid.ts";
import type { Elsewhere, ProcessTable } from "../process/table.ts";
import { Wire } from "../process/wire.ts";
import { maySpawn } from "../registry/spawn-rights.ts";
import { fromWireError, toWireError, type WireError } from "../threads/protocol.ts";
import { frame, unframe, valueWire, wireValue } from "./frames.ts";
import type { ClusterConfig } from "./options.ts";

export interface NodeInfo {
  name: string;
  state: "up" | "down";
  /** Epoch milliseconds of its last change of state. */
  since: number;
}

/** What a node needs of its runtime. */
export interface NodeRuntime {
  readonly table: ProcessTable;
  /** A spawn here for another node (it throws a ProcessError when it cannot). */
  spawn(id: string, host: string, args: unknown[], opts: SpawnOptions & { pid?: string }): string | Promise<string>;
}

type Header = { k: string } & Record<string, unknown>;
type Answer = { v?: unknown; e?: WireError };

interface Peer extends NodeInfo {
  incarnation: string;
  lastSeen: number;
  /** The requests waiting on it: rejected when it goes down. */
  waiting: Set<(err: ProcessError) => void>;
}

/** How long a request may wait for its answer while its node is up (it fails at once when the node goes down). */
const ANSWER_TIMEOUT_MS = 60_000;

const HEARTBEATS = "wippy.heartbeat";
const inbox = (node: string) => `wippy.node.${node}`;

export class ClusterNode implements Elsewhere {
  readonly name: string;
  readonly #config: ClusterConfig;
  readonly #rt: NodeRuntime;
  readonly #nc: NatsConnection;
  readonly #peers = new Map<string, Peer>();
  readonly #since = Date.now();
  /** A new one after every reconnection: the others see this node join again. */
  #incarnation = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  #timer: ReturnType<typeof setInterval> | undefined;
  #subs: Subscription[] = [];
  #closed = false;
  readonly #watchers = new Set<(node: NodeInfo, why: string) => void>();

  private constructor(config: ClusterConfig, rt: NodeRuntime, nc: NatsConnection) {
    this.name = config.node;
    this.#config = config;
    this.#rt = rt;
    this.#nc = nc;
  }

  /** Connects, refuses a name already taken, then announces itself and listens. */
  static async join(config: ClusterConfig, rt: NodeRuntime): Promise<ClusterNode> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: config.servers, name: `wippy node ${config.node}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true, ...authOf(config), ...(config.tls ? { tls: config.tls } : {}) });
    } catch (err) {
      throw new Error(`cluster: cannot connect to NATS at ${config.servers.join(", ")}: ${describeReason(err)}; start nats-server there or fix cluster.nats/auth`);
    }
    const taken = await nc.request(inbox(config.node), frame({ k: "ping" }), { timeout: Math.min(config.downAfterMs, 1000) }).then(() => true, () => false);
    if (taken) {
      await nc.close();
      throw new Error(`cluster: node name ${config.node} is already taken on ${config.servers.join(", ")}; give this node another name`);
    }
    const node = new ClusterNode(config, rt, nc);
    node.#start();
    return node;
  }

  #start(): void {
    this.#subs.push(this.#nc.subscribe(inbox(this.name), { callback: (err, msg) => { if (!err) this.#handle(msg); } }));
    this.#subs.push(this.#nc.subscribe(HEARTBEATS, { callback: (err, msg) => { if (!err) this.#heartbeat(msg); } }));
    this.#beat();
    this.#timer = setInterval(() => this.#tick(), this.#config.heartbeatMs);
    this.#timer.unref();
    void this.#watchConnection();
  }

  nodes(): NodeInfo[] {
    const out: NodeInfo[] = [{ name: this.name, state: this.#closed ? "down" : "up", since: this.#since }];
    for (const p of this.#peers.values()) out.push({ name: p.name, state: p.state, since: p.since });
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** `listener` hears of every other node coming up or going down, as it happens (a poll of nodes() could miss a short visit). */
  onChange(listener: (node: NodeInfo, why: string) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #changed(p: Peer, why: string): void {
    for (const w of this.#watchers) w({ name: p.name, state: p.state, since: p.since }, why);
  }

  /** Is `node` up (as this node sees it)? */
  isUp(node: string): boolean {
    return this.#peers.get(node)?.state === "up";
  }

  // ---- heartbeats and membership

  #beat(): void {
    if (!this.#closed) this.#nc.publish(HEARTBEATS, frame({ k: "hb", node: this.name, inc: this.#incarnation }));
  }

  #tick(): void {
    this.#beat();
    const now = Date.now();
    for (const p of this.#peers.values()) {
      if (p.state === "up" && now - p.lastSeen > this.#config.downAfterMs) this.#down(p, `node ${p.name} is down: no heartbeat for ${this.#config.downAfterMs} ms`);
    }
  }

  #heartbeat(msg: Msg): void {
    const { header } = unframe<{ node: string; inc: string; k: string }>(msg.data);
    if (header.k === "bye") {
      const p = this.#peers.get(header.node);
      if (p && p.state === "up" && p.incarnation === header.inc) this.#down(p, `node ${p.name} has left the cluster`);
      return;
    }
    if (header.node === this.name) return;
    const now = Date.now();
    const p = this.#peers.get(header.node);
    if (p && p.state === "up" && p.incarnation === header.inc) {
      p.lastSeen = now;
      return;
    }
    // a node seen for the first time, back after being down, or started again: it joins afresh
    if (p && p.state === "up") this.#down(p, `node ${p.name} restarted`);
    const peer: Peer = { name: header.node, state: "up", since: now, incarnation: header.inc, lastSeen: now, waiting: new Set() };
    this.#peers.set(header.node, peer);
    // answered at once, so the newcomer knows this node before anything this node sends it next
    this.#beat();
    this.#changed(peer, `node ${peer.name} is up`);
  }

  #down(p: Peer, message: string): void {
    p.state = "down";
    p.since = Date.now();
    const gone = new ProcessError("noconnection", message);
    for (const reject of p.waiting) reject(gone);
    p.waiting.clear();
    this.#rt.table.nodeDown(p.name, message);
    this.#changed(p, message);
  }

  /** Losing NATS is losing every other node; back again, this node joins afresh. */
  async #watchConnection(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (this.#closed) return;
      if (s.type === "disconnect") {
        for (const p of this.#peers.values()) if (p.state === "up") this.#down(p, `node ${p.name} is unreachable: this node lost its connection to NATS`);
      } else if (s.type === "reconnect") {
        this.#incarnation = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
        this.#beat();
      }
    }
  }

  // ---- requests from other nodes

  #handle(msg: Msg): void {
    let header: Header;
    let body: Uint8Array;
    try {
      ({ header, body } = unframe<Header>(msg.data));
    } catch {
      return; // not ours
    }
    const table = this.#rt.table;
    const reply = (fn: () => unknown) => {
      if (!msg.reply) return;
      const ok = (v: unknown) => msg.respond(frame({ v } satisfies Answer));
      const fail = (err: unknown) => msg.respond(frame({ e: toWireError(err) } satisfies Answer));
      try {
        const out = fn();
        if (out instanceof Promise) out.then(ok, fail);
        else ok(out);
      } catch (err) {
        fail(err);
      }
    };
    const s = (k: string) => String(header[k]);
    switch (header.k) {
      case "ping":
        return reply(() => this.name);
      case "send":
        // a process reported ended here (its node was down) does not come back with its node
        if (table.endedElsewhere(s("from"))) return reply(() => false);
        return reply(() => table.send(s("from"), s("to"), s("topic"), new Wire(header.fmt as "bytes" | "json", body.slice())));
      case "spawn":
        return reply(() => this.#serveSpawn(header));
      case "link":
        return reply(() => table.link(s("a"), s("b")));
      case "monitor":
        return table.monitor(s("w"), s("t"));
      case "unmonitor":
        return table.unmonitor(s("w"), s("t"));
      case "unlink":
        return table.unlink(s("a"), s("b"));
      case "terminate":
        return table.terminate(s("from"), s("pid"));
      case "cancel":
        try {
          table.cancel(s("from"), s("pid"), header.reason, Number(header.timeout));
        } catch {
          // a timeout the sender's table already checked
        }
        return;
      case "linkEnded":
        return table.linkEnded(s("pid"), s("from"), header.error as ExitError | undefined);
      case "deliver": {
        const event = this.#event(header, body);
        if (event.type === "EXIT") table.remoteEnded(event.from);
        table.get(s("pid"))?.mailbox.deliver(event);
        return;
      }
    }
  }

  #serveSpawn(h: Header): string | Promise<string> {
    const id = String(h.id);
    if (!maySpawn(this.#config.serve, id)) {
      throw new ProcessError("spawn", `node ${this.name} does not serve ${id}: add "${id}" (or "${id.slice(0, id.indexOf(":") + 1)}*") to its cluster serve list`);
    }
    const opts: SpawnOptions & { pid?: string } = {};
    if (typeof h.monitor === "string") opts.monitor = h.monitor;
    if (typeof h.link === "string") opts.link = h.link;
    if (typeof h.pid === "string") {
      // a pid the spawning node chose (a supervisor needs one at once): it must name this node and host, and be new
      if (!h.pid.startsWith(`{${this.name}@${String(h.host)}|`) || this.#rt.table.get(h.pid)) throw new ProcessError("spawn", `spawn ${id}: pid ${h.pid} is not a new pid of ${this.name}@${String(h.host)}`);
      opts.pid = h.pid;
    }
    return this.#rt.spawn(id, String(h.host), h.args as unknown[], opts);
  }

  #event(h: Header, body: Uint8Array): SystemEvent {
    const from = String(h.from);
    if (h.type === "LINK_DOWN") return { type: "LINK_DOWN", from, error: h.error as ExitError };
    if (h.error) return { type: "EXIT", from, error: h.error as ExitError };
    return { type: "EXIT", from, value: wireValue(h.fmt as "bytes" | "json", body) };
  }

  // ---- the table's Elsewhere: this node asks another

  #post(pid: string, header: Header, body?: Uint8Array): boolean {
    const node = nodeOf(pid);
    if (node === undefined || this.#closed || !this.isUp(node)) return false;
    this.#nc.publish(inbox(node), frame(header, body));
    return true;
  }

  async #ask(node: string, header: Header, body?: Uint8Array): Promise<unknown> {
    const peer = this.#peers.get(node);
    if (this.#closed || !peer || peer.state !== "up") throw new ProcessError("noconnection", `node ${node} is not up${this.#upList()}`);
    let msg: Msg;
    try {
      msg = await new Promise<Msg>((resolve, reject) => {
        peer.waiting.add(reject);
        this.#nc.request(inbox(node), frame(header, body), { timeout: ANSWER_TIMEOUT_MS }).then(resolve, reject).finally(() => peer.waiting.delete(reject));
      });
    } catch (err) {
      if (err instanceof ProcessError) throw err;
      throw new ProcessError("noconnection", `node ${node} did not answer: ${describeReason(err)}`);
    }
    const answer = unframe<Answer>(msg.data).header;
    if (answer.e) throw fromWireError(answer.e);
    return answer.v;
  }

  #upList(): string {
    const up = [...this.#peers.values()].filter((p) => p.state === "up").map((p) => p.name);
    return ` (nodes up: ${[this.name, ...up].join(", ")})`;
  }

  async send(from: string, to: string, topic: string, payload: Wire): Promise<boolean> {
    try {
      return (await this.#ask(nodeOf(to)!, { k: "send", from, to, topic, fmt: payload.format }, payload.bytes)) === true;
    } catch (err) {
      if (err instanceof ProcessError && err.kind === "noconnection") return false; // gone with its node
      throw err;
    }
  }

  monitor(watcher: string, target: string): void {
    if (this.#post(target, { k: "monitor", w: watcher, t: target })) return;
    this.#rt.table.remoteEnded(target);
    this.#rt.table.get(watcher)?.mailbox.deliver({ type: "EXIT", from: target, error: { kind: "noconnection", message: `node ${nodeOf(target)} is not up` } });
  }

  unmonitor(watcher: string, target: string): void {
    this.#post(target, { k: "unmonitor", w: watcher, t: target });
  }

  async link(a: string, b: string): Promise<void> {
    await this.#ask(nodeOf(b)!, { k: "link", a, b });
  }

  unlink(a: string, b: string): void {
    this.#post(b, { k: "unlink", a, b });
  }

  terminate(from: string, pid: string): void {
    this.#post(pid, { k: "terminate", from, pid });
  }

  cancel(from: string, pid: string, reason: unknown, timeoutMs: number): void {
    this.#post(pid, { k: "cancel", from, pid, reason: describeReason(reason), timeout: timeoutMs });
  }

  deliver(pid: string, event: SystemEvent): void {
    if (event.type === "CANCEL") return; // cancel travels as its own request
    if (event.type === "EXIT" && !("error" in event)) {
      const w = valueWire(event.value);
      this.#post(pid, { k: "deliver", pid, type: "EXIT", from: event.from, fmt: w.format }, w.bytes);
      return;
    }
    this.#post(pid, { k: "deliver", pid, type: event.type, from: event.from, error: event.error });
  }

  linkEnded(pid: string, from: string, error: ExitError | undefined): void {
    this.#post(pid, { k: "linkEnded", pid, from, ...(error ? { error } : {}) });
  }

  /** Spawns on `node`; the caller's monitor and link are noted for that node going down. */
  async spawn(node: string, id: string, host: string, args: unknown[], opts: SpawnOptions): Promise<string> {
    const request = spawnRequest(node, id, host, args, opts);
    let pid: string;
    try {
      pid = String(await this.#ask(node, request));
    } catch (err) {
      if (err instanceof ProcessError && err.kind === "noconnection") throw new ProcessError("spawn", `spawn ${id} on ${node}: ${err.message}`);
      throw err;
    }
    if (opts.monitor) this.#rt.table.watchRemote(opts.monitor, pid);
    if (opts.link) this.#rt.table.get(opts.link)?.links.add(pid);
    return pid;
  }

  /**
   * Spawns on `node` with a pid chosen here, returned at once (a supervisor's child);
   * a refusal or failure there arrives as that pid's EXIT (kind spawn), and its link
   * as a failure of the linked process.
   */
  spawnNow(node: string, id: string, host: string, args: unknown[], opts: SpawnOptions): string {
    const pid = newPid(host, node);
    const request = { ...spawnRequest(node, id, host, args, opts), pid };
    const table = this.#rt.table;
    if (opts.monitor) table.watchRemote(opts.monitor, pid);
    if (opts.link) table.get(opts.link)?.links.add(pid);
    this.#ask(node, request).catch((err: unknown) => {
      const error: ExitError = { kind: "spawn", message: `spawn ${id} on ${node}: ${describeReason(err)}` };
      table.remoteEnded(pid);
      if (opts.monitor) table.get(opts.monitor)?.mailbox.deliver({ type: "EXIT", from: pid, error });
      if (opts.link) table.linkEnded(opts.link, pid, error);
    });
    return pid;
  }

  /** Says goodbye (the others see it down at once) and closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#nc.publish(HEARTBEATS, frame({ k: "bye", node: this.name, inc: this.#incarnation }));
    try {
      await this.#nc.drain();
    } catch {
      await this.#nc.close().catch(() => {});
    }
  }
}

/** A spawn request for `node`; arguments must cross as JSON (a TypeError otherwise, before anything is sent). */
function spawnRequest(node: string, id: string, host: string, args: unknown[], opts: SpawnOptions): Header {
  if (JSON.stringify(args) === undefined) throw new TypeError(`spawn ${id} on ${node}: the arguments must be JSON values to cross to another node`);
  return { k: "spawn", id, host, args, ...(opts.monitor ? { monitor: opts.monitor } : {}), ...(opts.link ? { link: opts.link } : {}) };
}

function authOf(config: ClusterConfig): { authenticator?: ReturnType<typeof tokenAuthenticator> } {
  const a = config.auth;
  if (!a) return {};
  if (a.token !== undefined) return { authenticator: tokenAuthenticator(a.token) };
  if (a.creds !== undefined) return { authenticator: credsAuthenticator(readFileSync(a.creds)) };
  return { authenticator: usernamePasswordAuthenticator(a.user ?? "", a.pass ?? "") };
}
