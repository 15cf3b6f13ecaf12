// `wippy run --inspect [port]`: every process, supervisor and host actor reported to the
// Stately inspector. Inspection events go from the runtime (@statelyai/inspect's
// WebSocket inspector) to a relay on 127.0.0.1; the page it serves embeds the Stately
// inspector UI and hands it the events. The events never leave this machine; only the
// inspector UI itself is loaded from stately.ai.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { InspectionEvent, Observer } from "xstate";
import { WebSocket, WebSocketServer } from "ws";

export interface InspectorRelay {
  /** The page to open in a browser. */
  url: string;
  /** Where inspectors and viewers connect. */
  wsUrl: string;
  /** Pass to Runtime.open({ inspect }). */
  inspect: Observer<InspectionEvent>;
  stop(): Promise<void>;
}

const UI = "https://stately.ai/inspect";
/** Events kept for a viewer that connects late (the start of the run). */
const BACKLOG = 2000;

const bridgePage = (wsUrl: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>wippy — Stately inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="ui" src="${UI}"></iframe>
<script>
  // The Stately UI takes events by postMessage once it says it is connected.
  const ui = document.getElementById("ui"), pending = [];
  let ready = false;
  addEventListener("message", (e) => {
    if (e.data && e.data.type === "@statelyai.connected") { ready = true; pending.splice(0).forEach((m) => ui.contentWindow.postMessage(m, "*")); }
  });
  new WebSocket(${JSON.stringify(wsUrl)}).onmessage = (e) => {
    const m = JSON.parse(e.data);
    ready ? ui.contentWindow.postMessage(m, "*") : pending.push(m);
  };
</script></body></html>`;

export async function startInspector(port = 0): Promise<InspectorRelay> {
  const http = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(bridgePage(wsUrl));
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRINUSE" ? `port ${port} is in use; pass another: --inspect <port>` : err.message)),
    );
    http.listen(port, "127.0.0.1", () => resolve());
  });
  // attached once listening: a WebSocketServer re-emits the server's listen errors, unhandled
  const wss = new WebSocketServer({ server: http });
  const backlog: string[] = [];
  wss.on("error", () => undefined); // listening already succeeded; nothing later may crash the runtime
  wss.on("connection", (ws) => {
    ws.on("error", () => undefined); // a viewer that vanishes is just gone
    for (const m of backlog) ws.send(m);
    ws.on("message", (data) => {
      const m = data.toString();
      backlog.push(m);
      if (backlog.length > BACKLOG) backlog.shift();
      for (const c of wss.clients) if (c !== ws && c.readyState === WebSocket.OPEN) c.send(m);
    });
  });
  const actual = (http.address() as AddressInfo).port;
  const wsUrl = `ws://127.0.0.1:${actual}`;
  const { createWebSocketInspector } = await import("@statelyai/inspect");
  const inspector = createWebSocketInspector({ url: wsUrl });
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
