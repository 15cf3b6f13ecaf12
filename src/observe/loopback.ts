// The observer and the inspector relay listen on 127.0.0.1, which any web page the user
// visits can reach too. So every request must name us in `Host` (a page on evil.example
// that re-points its DNS to 127.0.0.1 sends `Host: evil.example:port`) and, when a browser
// sends an `Origin`, come from one of our own loopback pages.

import type { IncomingMessage, ServerResponse } from "node:http";

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/** `127.0.0.1:8080`, `localhost:8080`, `[::1]:8080` (and the bare names on port 80). */
function loopbackHosts(port: number): Set<string> {
  const hosts = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  if (port === 80) hosts.push(...LOOPBACK_NAMES);
  return new Set(hosts);
}

/** Why this request is refused, or undefined when it comes from this machine's pages or tools. */
export function foreignRequest(req: IncomingMessage, port: number): string | undefined {
  const hosts = loopbackHosts(port);
  const host = (req.headers.host ?? "").toLowerCase();
  if (!hosts.has(host)) return `Host ${JSON.stringify(req.headers.host ?? "")} is not 127.0.0.1:${port}, localhost:${port} or [::1]:${port}`;
  const origin = req.headers.origin;
  // No Origin: a tool (curl, the ws client of our own runtime) or a same-origin navigation.
  if (origin === undefined) return undefined;
  if (origin.startsWith("http://") && hosts.has(origin.slice("http://".length).toLowerCase())) return undefined;
  return `Origin ${JSON.stringify(origin)} is not a page of this server`;
}

/** One log line on stderr, and 403 to the client. */
export function refuse(what: string, reason: string, res?: ServerResponse): void {
  process.stderr.write(`wippy: ${what}: refused a request (${reason}); only pages served here may connect\n`);
  if (res) {
    res.writeHead(403, { "content-type": "text/plain" });
    res.end(`forbidden: ${reason}\n`);
  }
}
