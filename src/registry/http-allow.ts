// The grammar of `http.allow` items (SPEC section 2): a host name, host:port, *.domain,
// an IP address (optionally with a port) or a CIDR. The registry validates with it and
// the wasi:http host (src/wasi/p2/http-policy.ts) matches destinations against it.
import { isIP } from "node:net";
import { domainToASCII } from "node:url";

export interface IpAddress {
  family: 4 | 6;
  /** The address as an unsigned integer: 32 bits for IPv4, 128 for IPv6. */
  value: bigint;
}

export type AllowRule =
  /** `example.com`, `example.com:8443`, `localhost`: that name exactly. */
  | { kind: "name"; name: string; port?: number }
  /** `*.example.com`: any name below example.com, at any depth; not example.com itself. */
  | { kind: "domain"; suffix: string; port?: number }
  /** `10.0.0.5`, `[::1]:8080`, `10.0.0.0/8`, `fd00::/8`: addresses, whatever name led there. */
  | { kind: "address"; family: 4 | 6; network: bigint; prefix: number; port?: number };

export type ParsedRule = { ok: true; rule: AllowRule } | { ok: false; message: string };

const BITS = { 4: 32, 6: 128 } as const;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const FORMS = "a host name, host:port, *.domain, an IP address or a CIDR (e.g. api.example.com, example.com:8443, *.example.com, 10.0.0.5, 10.0.0.0/8)";

/** The address `text` stands for, or undefined when it is not an IP address. */
export function parseIp(text: string): IpAddress | undefined {
  const family = isIP(text);
  if (family === 4) return { family, value: ipv4Value(text) };
  if (family === 6) return { family, value: ipv6Value(text) };
  return undefined;
}

function ipv4Value(text: string): bigint {
  return text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(text: string): bigint {
  let rest = text.replace(/%.*$/, ""); // a zone (fe80::1%eth0) names an interface, not an address
  let tail: bigint[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(rest)?.[1];
  if (dotted !== undefined) {
    const v4 = ipv4Value(dotted);
    tail = [v4 >> 16n, v4 & 0xffffn];
    rest = rest.slice(0, -dotted.length);
    if (rest.endsWith(":") && !rest.endsWith("::")) rest = rest.slice(0, -1);
  }
  const groups = (part: string | undefined) => (part ? part.split(":").map((g) => BigInt(parseInt(g, 16))) : []);
  const [head, after] = rest.split("::");
  let words = groups(head);
  if (after !== undefined) {
    const end = groups(after);
    words = [...words, ...Array<bigint>(8 - tail.length - words.length - end.length).fill(0n), ...end];
  }
  return [...words, ...tail].reduce((acc, word) => (acc << 16n) | word, 0n);
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** A host name in the form the URL parser gives it (lower case, punycode), or undefined. */
export function normalizeHostName(text: string): string | undefined {
  const ascii = domainToASCII(text.replace(/\.$/, ""));
  if (ascii === "" || ascii.length > 253) return undefined;
  const labels = ascii.split(".");
  if (!labels.every((label) => label.length <= 63 && LABEL.test(label))) return undefined;
  // A name ending in a number is an IPv4 address to the URL parser (0x7f.1 is 127.0.0.1).
  if (/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1] ?? "")) return undefined;
  return ascii;
}

/** One `http.allow` item. */
export function parseAllowRule(input: string): ParsedRule {
  const text = input.trim();
  const bad = (why: string): ParsedRule => ({ ok: false, message: `"${input}" ${why}` });
  if (text === "*") return bad("would allow everything: leave http.allow out to reach any public address");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return bad("is a URL: list its host instead (e.g. example.com, or example.com:8443 for one port)");
  if (text.includes("/")) {
    if (parseIp(text.slice(0, text.indexOf("/")))) return parseCidr(text, bad);
    return bad(`is not ${FORMS}: list hosts, not paths`);
  }
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? "";
    if (isIP(host) !== 6) return bad(`is not an IPv6 address in brackets; use ${FORMS}`);
  } else if (isIP(text) === 0 && text.includes(":")) {
    const colon = text.lastIndexOf(":");
    host = text.slice(0, colon);
    if (host.includes(":")) return bad(`is not ${FORMS}`);
  }
  const portText = bracketed ? bracketed[2] : host === text ? undefined : text.slice(host.length + 1);
  if (portText !== undefined) {
    port = parsePort(portText);
    if (port === undefined) return bad(`has an invalid port "${portText}": use a number from 1 to 65535`);
  }
  const withPort = <T extends AllowRule>(rule: T): ParsedRule => ({ ok: true, rule: port === undefined ? rule : { ...rule, port } });
  const ip = parseIp(host);
  if (ip) return withPort({ kind: "address", family: ip.family, network: ip.value, prefix: BITS[ip.family] });
  if (host.startsWith("*.")) {
    const suffix = normalizeHostName(host.slice(2));
    return suffix === undefined ? bad(`is not a valid *.domain; use ${FORMS}`) : withPort({ kind: "domain", suffix });
  }
  const name = normalizeHostName(host);
  return name === undefined ? bad(`is not ${FORMS}`) : withPort({ kind: "name", name });
}

function parseCidr(text: string, bad: (why: string) => ParsedRule): ParsedRule {
  const [address = "", prefixText = "", ...extra] = text.split("/");
  const ip = parseIp(address);
  if (!ip || extra.length > 0) return bad(`is not a CIDR: write an IP address, "/" and a prefix length (e.g. 10.0.0.0/8, fd00::/8)`);
  const bits = BITS[ip.family];
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return bad(`has an invalid prefix length "${prefixText}": use 0 to ${bits}`);
  const network = maskTo(ip.value, prefix, bits);
  if (network !== ip.value) return bad(`has bits set past its /${prefix} prefix; did you mean ${formatNetwork(ip.family, network)}/${prefix}?`);
  return { ok: true, rule: { kind: "address", family: ip.family, network, prefix } };
}

/** `value` with every bit past the first `prefix` of `bits` cleared. */
export function maskTo(value: bigint, prefix: number, bits: number): bigint {
  const host = BigInt(bits - prefix);
  return (value >> host) << host;
}

function formatNetwork(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
  const words = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16));
  // The longest run of zero words becomes "::" (RFC 5952).
  let best = { at: -1, length: 1 };
  for (let at = 0; at < words.length; at++) {
    let length = 0;
    while (words[at + length] === "0") length++;
    if (length > best.length) best = { at, length };
  }
  if (best.at < 0) return words.join(":");
  return `${words.slice(0, best.at).join(":")}::${words.slice(best.at + best.length).join(":")}`;
}
