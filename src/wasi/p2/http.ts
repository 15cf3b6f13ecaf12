// wasi:http — outgoing requests only (types + outgoing-handler), on node:http(s).
// `handle` starts the request and returns a future at once; the guest waits on
// it (and on the response body) through wasi:io pollables and streams, so only
// that guest suspends. The classes are made per process: jco constructs some of
// them itself (`new Fields()`), and they need the process's context.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createLogger } from "../../log.ts";
import type { HostContext } from "./context.ts";
import { checkDestination, pinnedLookup } from "./http-policy.ts";
import { InputStream, OutputStream, Pollable, Reader, type ByteSink, type ByteSource, type IoError } from "./io.ts";

type Tagged = { tag: string; val?: unknown };
type Result<T> = { tag: "ok"; val: T } | { tag: "err"; val: unknown };
const ok = <T>(val: T): Result<T> => ({ tag: "ok", val });

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Hop-by-hop headers belong to the host's connection, not to the guest.
const FORBIDDEN = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings", "te"]);

function checkName(name: string): string {
  if (!TOKEN.test(name)) throw { tag: "invalid-syntax" };
  const lower = name.toLowerCase();
  if (FORBIDDEN.has(lower)) throw { tag: "forbidden" };
  return lower;
}
function checkValue(value: Uint8Array): Uint8Array {
  for (const b of value) if (b === 0 || b === 10 || b === 13) throw { tag: "invalid-syntax" };
  return value;
}

/** Node errors → wasi:http error-code. */
function errorCode(err: unknown): Tagged {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case "ECONNREFUSED":
      return { tag: "connection-refused" };
    case "ECONNRESET":
    case "EPIPE":
      return { tag: "connection-terminated" };
    case "ETIMEDOUT":
      return { tag: "connection-timeout" };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { tag: "DNS-error", val: { rcode: e.code, infoCode: undefined } };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return { tag: "destination-unavailable" };
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_HEADER_TOKEN":
      return { tag: "HTTP-protocol-error" };
    default:
      return { tag: "internal-error", val: e.message ?? String(err) };
  }
}

/** Pulls a Node readable (a response body) chunk by chunk. */
function messageSource(msg: IncomingMessage): ByteSource {
  const chunks = msg[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return {
    pull: async () => {
      const r = await chunks.next();
      return r.done ? null : new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.length);
    },
    close: () => msg.destroy(),
  };
}

export function httpImports(ctx: HostContext): Record<string, Record<string, unknown>> {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const entry = ctx.io.entry;
  // This process's own connection pools: a kept-alive socket was checked against this
  // entry's http.allow, so it must not carry another process's request.
  let agents: { http: HttpAgent; https: HttpsAgent } | undefined;
  const agentFor = (https: boolean) => {
    if (!agents) {
      const pools = (agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) });
      ctx.onClose(() => (pools.http.destroy(), pools.https.destroy()));
    }
    return https ? agents.https : agents.http;
  };

  class Fields {
    readonly #map = new Map<string, { name: string; values: Uint8Array[] }>();
    #immutable = false;

    static fromList(entries: [string, Uint8Array][]): Fields {
      const f = new Fields();
      for (const [name, value] of entries) f.append(name, value);
      return f;
    }
    /** Headers the guest may read but not change (a request's or a response's). */
    static frozen(entries: [string, Uint8Array][]): Fields {
      const f = new Fields();
      for (const [name, value] of entries) {
        const key = name.toLowerCase();
        const e = f.#map.get(key) ?? { name, values: [] };
        e.values.push(value);
        f.#map.set(key, e);
      }
      f.#immutable = true;
      return f;
    }
    #mutable(): void {
      if (this.#immutable) throw { tag: "immutable" };
    }
    freeze(): void {
      this.#immutable = true;
    }
    get(name: string): Uint8Array[] {
      return [...(this.#map.get(name.toLowerCase())?.values ?? [])];
    }
    has(name: string): boolean {
      return this.#map.has(name.toLowerCase());
    }
    set(name: string, values: Uint8Array[]): void {
      this.#mutable();
      this.#map.set(checkName(name), { name, values: values.map(checkValue) });
    }
    delete(name: string): void {
      this.#mutable();
      this.#map.delete(checkName(name));
    }
    append(name: string, value: Uint8Array): void {
      this.#mutable();
      const key = checkName(name);
      const e = this.#map.get(key) ?? { name, values: [] };
      e.values.push(checkValue(value));
      this.#map.set(key, e);
    }
    entries(): [string, Uint8Array][] {
      return [...this.#map.values()].flatMap((e) => e.values.map((v): [string, Uint8Array] => [e.name, v]));
    }
    clone(): Fields {
      const f = new Fields();
      for (const [k, e] of this.#map) f.#map.set(k, { name: e.name, values: [...e.values] });
      return f;
    }
    frozenCopy(): Fields {
      const f = this.clone();
      f.#immutable = true;
      return f;
    }
    /** For node:http: name → value(s) as text. */
    toNode(): Record<string, string[]> {
      const out: Record<string, string[]> = {};
      for (const e of this.#map.values()) out[e.name] = e.values.map((v) => dec.decode(v));
      return out;
    }
  }

  class RequestOptions {
    #connect: bigint | undefined;
    #firstByte: bigint | undefined;
    #between: bigint | undefined;
    connectTimeout(): bigint | undefined {
      return this.#connect;
    }
    setConnectTimeout(d: bigint | undefined): void {
      this.#connect = d;
    }
    firstByteTimeout(): bigint | undefined {
      return this.#firstByte;
    }
    setFirstByteTimeout(d: bigint | undefined): void {
      this.#firstByte = d;
    }
    betweenBytesTimeout(): bigint | undefined {
      return this.#between;
    }
    setBetweenBytesTimeout(d: bigint | undefined): void {
      this.#between = d;
    }
  }

  /** A request body: buffered until the request starts, then streamed into it. */
  class OutgoingBody {
    #stream: OutputStream | undefined;
    #queued: Uint8Array[] = [];
    #req: ClientRequest | undefined;
    #finished = false;

    write(): OutputStream {
      if (this.#stream) throw undefined; // one stream per body
      const sink: ByteSink = {
        write: (bytes) => {
          const req = this.#req;
          if (!req) return void this.#queued.push(bytes);
          return new Promise<void>((resolve, reject) => req.write(bytes, (err) => (err ? reject(err) : resolve())));
        },
      };
      return (this.#stream = new OutputStream(ctx, sink));
    }
    static finish(body: OutgoingBody, trailers: Fields | undefined): void {
      body.#finished = true;
      body.#stream?.markClosed();
      if (trailers) body.#req?.addTrailers(trailers.toNode());
      if (body.#req) void body.#end(body.#req);
    }
    attach(req: ClientRequest): void {
      this.#req = req;
      for (const chunk of this.#queued.splice(0)) req.write(chunk);
      if (this.#finished) void this.#end(req);
    }
    async #end(req: ClientRequest): Promise<void> {
      await this.#stream?.drained(); // writes still in flight go first
      req.end();
    }
  }

  class OutgoingRequest {
    readonly #headers: Fields;
    #method: Tagged = { tag: "get" };
    #path: string | undefined;
    #scheme: Tagged | undefined;
    #authority: string | undefined;
    #body: OutgoingBody | undefined;

    constructor(headers: Fields) {
      this.#headers = headers;
      headers.freeze();
    }
    body(): OutgoingBody {
      if (this.#body) throw undefined; // only once
      return (this.#body = new OutgoingBody());
    }
    method(): Tagged {
      return this.#method;
    }
    setMethod(m: Tagged): void {
      if (m.tag === "other" && !TOKEN.test(String(m.val))) throw undefined;
      this.#method = m;
    }
    pathWithQuery(): string | undefined {
      return this.#path;
    }
    setPathWithQuery(p: string | undefined): void {
      if (p !== undefined && /[\s\0]/.test(p)) throw undefined;
      this.#path = p;
    }
    scheme(): Tagged | undefined {
      return this.#scheme;
    }
    setScheme(s: Tagged | undefined): void {
      if (s?.tag === "other" && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(String(s.val))) throw undefined;
      this.#scheme = s;
    }
    authority(): string | undefined {
      return this.#authority;
    }
    setAuthority(a: string | undefined): void {
      if (a !== undefined && /[\s/?#@]/.test(a)) throw undefined;
      this.#authority = a;
    }
    headers(): Fields {
      return this.#headers.frozenCopy();
    }
    /**
     * Starts the request; the future settles with the response head. The destination
     * is resolved and checked against http.allow first, and the connection goes only
     * to the addresses that passed; a refused request sends nothing.
     */
    start(options: RequestOptions | undefined): FutureIncomingResponse {
      const scheme = this.#scheme?.tag ?? "HTTP";
      if (scheme !== "HTTP" && scheme !== "HTTPS") throw { tag: "HTTP-protocol-error" };
      if (!this.#authority) throw { tag: "HTTP-request-URI-invalid" };
      let url: URL;
      try {
        url = new URL(`${scheme === "HTTPS" ? "https" : "http"}://${this.#authority}${this.#path ?? "/"}`);
      } catch {
        throw { tag: "HTTP-request-URI-invalid" };
      }
      const future = new FutureIncomingResponse();
      checkDestination(url, entry.http?.allow).then(
        (decision) => {
          if (ctx.signal.aborted) return;
          if (decision.allowed) return this.#send(url, decision.addresses, options, future);
          const message = `wippy: request to ${url.host} refused: ${decision.reason} (http.allow of ${entry.id})`;
          createLogger(process.env).debug(message); // read at the refusal, not at import
          future.settle({ tag: "err", val: { tag: "internal-error", val: message } });
        },
        (err: unknown) => future.settle({ tag: "err", val: errorCode(err) }),
      );
      return future;
    }

    #send(url: URL, addresses: string[], options: RequestOptions | undefined, future: FutureIncomingResponse): void {
      const https = url.protocol === "https:";
      const method = this.#method.tag === "other" ? String(this.#method.val) : this.#method.tag.toUpperCase();
      const ms = (d: bigint | undefined) => (d === undefined ? undefined : Number(d / 1_000_000n));
      const connect = ms(options?.connectTimeout());
      let req: ClientRequest;
      try {
        req = (https ? httpsRequest : httpRequest)(url, {
          method,
          headers: this.#headers.toNode(),
          agent: agentFor(https),
          lookup: pinnedLookup(addresses), // the checked addresses, and no others
          signal: ctx.signal, // the process ending drops its requests
          ...(connect !== undefined ? { timeout: connect } : {}),
        });
      } catch (err) {
        return future.settle({ tag: "err", val: errorCode(err) });
      }
      req.on("timeout", () => req.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })));
      req.on("response", (res) => future.settle(ok(new IncomingResponse(res))));
      req.on("error", (err) => future.settle({ tag: "err", val: errorCode(err) }));
      if (this.#body) this.#body.attach(req);
      else req.end();
    }
  }

  class FutureIncomingResponse {
    #result: Result<IncomingResponse> | undefined;
    #taken = false;
    readonly #settled: Promise<void>;
    #resolve!: () => void;
    constructor() {
      this.#settled = new Promise((r) => (this.#resolve = r));
    }
    settle(r: Result<IncomingResponse>): void {
      if (this.#result) return;
      this.#result = r;
      this.#resolve();
    }
    subscribe(): Pollable {
      return new Pollable(ctx, () => this.#result !== undefined, () => this.#settled);
    }
    get(): Result<Result<IncomingResponse>> | undefined {
      if (!this.#result) return undefined;
      if (this.#taken) return { tag: "err", val: undefined };
      this.#taken = true;
      return ok(this.#result);
    }
  }

  class IncomingResponse {
    readonly #res: IncomingMessage;
    #consumed = false;
    constructor(res: IncomingMessage) {
      this.#res = res;
    }
    status(): number {
      return this.#res.statusCode ?? 0;
    }
    headers(): Fields {
      return Fields.frozen(pairs(this.#res.rawHeaders));
    }
    consume(): IncomingBody {
      if (this.#consumed) throw undefined;
      this.#consumed = true;
      return new IncomingBody(this.#res);
    }
  }

  class IncomingBody {
    readonly #res: IncomingMessage;
    #stream: InputStream | undefined;
    constructor(res: IncomingMessage) {
      this.#res = res;
    }
    stream(): InputStream {
      if (this.#stream) throw undefined;
      return (this.#stream = new InputStream(ctx, new Reader(messageSource(this.#res)), true));
    }
    static finish(body: IncomingBody): FutureTrailers {
      return new FutureTrailers(body.#res);
    }
  }

  class FutureTrailers {
    readonly #res: IncomingMessage;
    readonly #ended: Promise<void>;
    #taken = false;
    constructor(res: IncomingMessage) {
      this.#res = res;
      this.#ended = res.complete ? Promise.resolve() : new Promise((r) => res.once("end", r).once("close", r));
      if (!res.readableEnded) res.resume(); // drain what the guest did not read
    }
    subscribe(): Pollable {
      return new Pollable(ctx, () => this.#res.complete || this.#res.destroyed, () => this.#ended);
    }
    get(): Result<Result<Fields | undefined>> | undefined {
      if (!this.#res.complete && !this.#res.destroyed) return undefined;
      if (this.#taken) return { tag: "err", val: undefined };
      this.#taken = true;
      if (!this.#res.complete) return ok({ tag: "err", val: { tag: "HTTP-response-incomplete" } });
      const raw = pairs(this.#res.rawTrailers);
      return ok(ok(raw.length > 0 ? Fields.frozen(raw) : undefined));
    }
  }

  const pairs = (raw: string[]): [string, Uint8Array][] => {
    const out: [string, Uint8Array][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, enc.encode(raw[i + 1])]);
    return out;
  };

  const serverSide = () => {
    throw new Error("wasi:http incoming requests are not supported by this host");
  };
  class IncomingRequest {}
  class OutgoingResponse {
    constructor() {
      serverSide();
    }
  }
  class ResponseOutparam {
    static set = serverSide;
  }

  return {
    "wasi:http/types": {
      Fields,
      RequestOptions,
      OutgoingRequest,
      OutgoingBody,
      FutureIncomingResponse,
      IncomingResponse,
      IncomingBody,
      FutureTrailers,
      IncomingRequest,
      OutgoingResponse,
      ResponseOutparam,
      httpErrorCode: (_err: IoError) => undefined,
    },
    "wasi:http/outgoing-handler": {
      handle: (request: OutgoingRequest, options: RequestOptions | undefined) => request.start(options),
    },
  };
}
