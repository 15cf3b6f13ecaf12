// `wippy run --observe [port]`: the observer page on 127.0.0.1, its state pushed as
// server-sent events whenever it changes (checked every 200 ms), and /state as JSON.
// Only for this machine's own pages and tools: see loopback.ts.

import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Runtime } from "../runtime.ts";
import { RuntimeObserver, type Observation } from "./model.ts";
import { OBSERVER_PAGE } from "./page.ts";
import { foreignRequest, refuse } from "./loopback.ts";

export interface ObserverServer {
  url: string;
  close(): Promise<void>;
}

const TICK_MS = 200;

/** Starts the page server; port 0 picks a free port. */
export async function serveObserver(runtime: Runtime, port = 0): Promise<ObserverServer> {
  const observer = new RuntimeObserver(runtime);
  const clients = new Set<ServerResponse>();
  let last = "";
  const payload = (o: Observation) => JSON.stringify(o);
  const changed = (o: Observation): string | undefined => {
    const key = JSON.stringify({ ...o, at: 0 });
    if (key === last) return undefined;
    last = key;
    return payload(o);
  };
  const timer = setInterval(() => {
    if (clients.size === 0) return;
    const data = changed(observer.snapshot());
    if (data) for (const c of clients) c.write(`data: ${data}\n\n`);
  }, TICK_MS);
  timer.unref();

  let actual = port;
  const server: Server = createServer((req, res) => {
    const foreign = foreignRequest(req, actual);
    if (foreign) return refuse("observer", foreign, res);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(OBSERVER_PAGE);
    } else if (path === "/state") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(payload(observer.snapshot()));
    } else if (path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(`retry: 1000\ndata: ${payload(observer.snapshot())}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: the observer serves /, /events and /state\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      clearInterval(timer);
      observer.close();
      reject(new Error(err.code === "EADDRINUSE" ? `port ${port} is in use; pass another: --observe <port>` : `cannot serve the observer page: ${err.message}`));
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        observer.close();
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}
