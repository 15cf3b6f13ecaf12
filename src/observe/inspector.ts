// `wippy run --inspect [port]`: every process, supervisor and host actor reported to the
// Stately inspector. Inspection events go from the runtime (@statelyai/inspect's
// WebSocket inspector) to a relay on 127.0.0.1; the page it serves embeds the Stately
// inspector UI and hands it the events. The events never leave this machine; only the
// inspector UI itself is loaded from stately.ai.
//
// Who may say what: the runtime's own inspector connects on a path with a random token and
// is the only source; viewers (the bridge page) only listen. The protocol needs nothing
// from a viewer (the UI talks to the bridge page by postMessage), so what a viewer sends
// is dropped: it can reach neither other viewers nor the runtime.

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { InspectionEvent, Observer } from "xstate";
import { WebSocket, WebSocketServer } from "ws";
import { createLogger } from "../log.ts";
import { foreignRequest, refuse } from "./loopback.ts";

export interface InspectorRelay {
  /** The page to open in a browser. */
  url: string;
  /** Where viewers connect (they receive; what they send is dropped). */
  wsUrl: string;
  /** Pass to Runtime.open({ inspect }). */
  inspect: Observer<InspectionEvent>;
  stop(): Promise<void>;
}

const UI = "https://stately.ai/inspect";
const UI_ORIGIN = new URL(UI).origin;
/** Events kept for a viewer that connects late (the start of the run). */
const BACKLOG = 2000;

const bridgePage = (wsUrl: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>wippy — Stately inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="ui" src="${UI}"></iframe>
<script>
  // The Stately UI takes events by postMessage once it says it is connected; only to its origin.
  const ui = document.getElementById("ui"), pending = [], origin = ${JSON.stringify(UI_ORIGIN)};
  let ready = false;
  addEventListener("message", (e) => {
    if (e.origin !== origin || e.source !== ui.contentWindow) return;
    if (e.data && e.data.type === "@statelyai.connected") { ready = true; pending.splice(0).forEach((m) => ui.contentWindow.postMessage(m, origin)); }
  });
  new WebSocket(${JSON.stringify(wsUrl)}).onmessage = (e) => {
    const m = JSON.parse(e.data);
    ready ? ui.contentWindow.postMessage(m, origin) : pending.push(m);
  };
</script></body></html>`;

export async function startInspector(port = 0): Promise<InspectorRelay> {
  let actual = port;
  const http = createServer((req, res) => {
    const foreign = foreignRequest(req, actual);
    if (foreign) return refuse("inspector", foreign, res);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(bridgePage(wsUrl));
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRINUSE" ? `port ${port} is in use; pass another: --inspect <port>` : err.message)),
    );
    http.listen(port, "127.0.0.1", () => resolve());
  });
  actual = (http.address() as AddressInfo).port;
  const wsUrl = `ws://127.0.0.1:${actual}`;
  const sourcePath = `/source/${randomBytes(16).toString("hex")}`;
  const wss = new WebSocketServer({ noServer: true });
  const viewers = new Set<WebSocket>();
  const backlog: string[] = [];
  wss.on("error", () => undefined); // listening already succeeded; nothing later may crash the runtime
  http.on("upgrade", (req, socket, head) => {
    socket.on("error", () => undefined);
    const foreign = foreignRequest(req, actual);
    if (foreign) {
      refuse("inspector", foreign);
      socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const isSource = req.url === sourcePath;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => undefined); // a viewer that vanishes is just gone
      if (isSource) {
        ws.on("message", (data) => {
          const m = data.toString();
          backlog.push(m);
          if (backlog.length > BACKLOG) backlog.shift();
          for (const v of viewers) if (v.readyState === WebSocket.OPEN) v.send(m);
        });
        return;
      }
      viewers.add(ws);
      ws.on("close", () => viewers.delete(ws));
      ws.on("message", () => createLogger(process.env).debug("inspector: dropped a message from a viewer (viewers only listen)"));
      for (const m of backlog) ws.send(m);
    });
  });
  const { createWebSocketInspector } = await import("@statelyai/inspect");
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${actual}${sourcePath}` });
  return {
    url: `http://127.0.0.1:${actual}/`,
    wsUrl,
    inspect: inspector.inspect,
    stop: () =>
      new Promise<void>((resolve) => {
        inspector.stop();
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}
