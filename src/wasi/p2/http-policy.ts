// Where a wasi:http guest may connect (SPEC section 2, `http.allow`). `decide` is pure:
// given the allow list, the destination as the URL parser read it and the addresses
// it resolved to, it says which addresses the request may use. `checkDestination`
// does the resolving; the caller then connects only to the addresses it returns
// (`pinnedLookup`), so DNS cannot answer differently between check and connect.

import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { maskTo, parseAllowRule, parseIp, type AllowRule, type IpAddress } from "../../registry/http-allow.ts";

/** Addresses a guest reaches only when `http.allow` lists them (or `localhost`, for loopback). */
type AddressClass = "loopback" | "private" | "link-local" | "unique-local" | "unspecified" | "multicast" | "reserved";

interface Range {
  network: bigint;
  prefix: number;
  cls: AddressClass;
  label: string;
}

function range(cidr: string, cls: AddressClass, label: string): Range {
  const [address = "", prefix = ""] = cidr.split("/");
  const ip = parseIp(address) as IpAddress;
  return { network: ip.value, prefix: Number(prefix), cls, label };
}

interface Ranges {
  v4: Range[];
  v6: Range[];
  /** IPv6 prefixes that carry an IPv4 address in their last 32 bits: judged as that IPv4. */
  embedsV4: Range[];
  mapped: Range;
}

let tables: Ranges | undefined;
/** Built at the first request, not at load: parsing them costs a CLI start some milliseconds. */
function ranges(): Ranges {
  if (tables) return tables;
  const mapped = range("::ffff:0:0/96", "reserved", "IPv4-mapped");
  tables = {
    v4: [
      range("0.0.0.0/8", "unspecified", "a 'this network' address"), // connecting to 0.0.0.0 reaches this machine
      range("10.0.0.0/8", "private", "a private address"),
      // Carrier-grade NAT (shared address space): the provider's or the cluster's own network.
      range("100.64.0.0/10", "private", "a carrier-grade NAT address"),
      range("127.0.0.0/8", "loopback", "a loopback address"),
      range("169.254.0.0/16", "link-local", "a link-local address"), // includes cloud metadata (169.254.169.254)
      range("172.16.0.0/12", "private", "a private address"),
      range("192.168.0.0/16", "private", "a private address"),
      range("224.0.0.0/4", "multicast", "a multicast address"),
      range("240.0.0.0/4", "reserved", "a reserved address"), // includes broadcast, 255.255.255.255
    ],
    v6: [
      range("::/128", "unspecified", "the unspecified address"),
      range("::1/128", "loopback", "a loopback address"),
      range("fe80::/10", "link-local", "a link-local address"),
      range("fec0::/10", "private", "a site-local address"), // deprecated, still routed inside sites
      range("fc00::/7", "unique-local", "a unique-local address"),
      range("ff00::/8", "multicast", "a multicast address"),
    ],
    embedsV4: [
      mapped,
      range("64:ff9b::/96", "reserved", "NAT64"),
      range("::/96", "reserved", "IPv4-compatible"), // after :: and ::1, which stay IPv6
    ],
    mapped,
  };
  return tables;
}

const inRange = (value: bigint, network: bigint, prefix: number, bits: number) => maskTo(value, prefix, bits) === network;

/** An IPv6 address that embeds an IPv4 one becomes that IPv4 (::ffff:127.0.0.1 is 127.0.0.1). */
export function normalizeAddress(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value > 1n && ranges().embedsV4.some((r) => inRange(ip.value, r.network, r.prefix, 128))) {
    return { family: 4, value: ip.value & 0xffffffffn };
  }
  return ip;
}

/** The refused-by-default class of an address, or undefined for a public one. */
export function classify(address: string): Range | undefined {
  const parsed = parseIp(address);
  if (!parsed) return { network: 0n, prefix: 0, cls: "reserved", label: "not an IP address" };
  const ip = normalizeAddress(parsed);
  const table = ip.family === 4 ? ranges().v4 : ranges().v6;
  return table.find((r) => inRange(ip.value, r.network, r.prefix, ip.family === 4 ? 32 : 128));
}

function ruleContains(rule: AllowRule & { kind: "address" }, address: string): boolean {
  const parsed = parseIp(address);
  if (!parsed) return false;
  const ip = normalizeAddress(parsed);
  let { family, network, prefix } = rule;
  // A rule in the IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 rule it spells.
  if (family === 6 && prefix >= 96 && maskTo(network, 96, 128) === ranges().mapped.network) {
    family = 4;
    network &= 0xffffffffn;
    prefix -= 96;
  }
  return ip.family === family && inRange(ip.value, network, prefix, family === 4 ? 32 : 128);
}

export type Decision = { allowed: true; addresses: string[] } | { allowed: false; reason: string };

/**
 * Which of `addresses` (what `host` resolved to; the host itself for an IP literal) a
 * request to `host:port` may connect to. `allow` undefined: any public address. An
 * address the list names (IP or CIDR) is allowed whatever it is; `localhost` allows
 * loopback addresses reached as localhost or by address; a listed name or *.domain
 * allows only public addresses, so a name cannot lead to an internal one.
 */
export function decide(allow: readonly string[] | undefined, host: string, port: number, addresses: readonly string[]): Decision {
  const name = host.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  const rules = allow?.flatMap((text) => {
    const parsed = parseAllowRule(text);
    return parsed.ok ? [parsed.rule] : []; // the registry refused bad items already
  });
  const allowed: string[] = [];
  let reason: string | undefined;
  for (const address of addresses) {
    const refusal = judge(rules, name, port, address);
    if (refusal === undefined) allowed.push(address);
    else reason ??= refusal;
  }
  if (allowed.length > 0) return { allowed: true, addresses: allowed };
  return { allowed: false, reason: reason ?? `${name} resolved to no address` };
}

/** Why the connection to `address` is refused, or undefined when it is allowed. */
function judge(rules: AllowRule[] | undefined, host: string, port: number, address: string): string | undefined {
  const special = classify(address);
  const resolved = isIP(host) === 0 ? `${host} resolves to ${address}, ` : `${address} is `;
  if (rules === undefined) {
    return special && `${resolved}${special.label}, refused unless http.allow lists it (an IP or CIDR, or localhost)`;
  }
  const portMatches = (rule: AllowRule) => rule.port === undefined || rule.port === port;
  if (rules.some((rule) => rule.kind === "address" && portMatches(rule) && ruleContains(rule, address))) return undefined;
  const literal = isIP(host) !== 0;
  const localhostListed = rules.some((rule) => rule.kind === "name" && rule.name === "localhost" && portMatches(rule));
  if (special?.cls === "loopback" && localhostListed && (host === "localhost" || literal)) return undefined;
  const named =
    !literal &&
    rules.some(
      (rule) =>
        portMatches(rule) &&
        ((rule.kind === "name" && rule.name === host) || (rule.kind === "domain" && host.endsWith(`.${rule.suffix}`))),
    );
  if (!named) return `${literal && host.includes(":") ? `[${host}]` : host}:${port} is not in http.allow`;
  if (special) return `${resolved}${special.label}: a listed name may not lead there; list the address itself (an IP or CIDR) in http.allow`;
  return undefined;
}

export type Resolve = (host: string) => Promise<string[]>;

const resolveAll: Resolve = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, found: LookupAddress[]) => (err ? reject(err) : resolve(found.map((a) => a.address)))),
  );

/**
 * Resolves `url`'s host (unless it is an address already) and decides. The URL is the
 * one the request is made with, so its normalised host (0x7f.1 → 127.0.0.1) is the
 * host that is checked.
 */
export async function checkDestination(url: URL, allow: readonly string[] | undefined, resolve: Resolve = resolveAll): Promise<Decision> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const addresses = isIP(host) !== 0 ? [host] : await resolve(host);
  return decide(allow, host, port, addresses);
}

/** A `lookup` for node:net that answers only with the checked addresses. */
export function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
    const usable = entries.filter((e) => !family || e.family === family);
    const first = usable[0];
    if (!first) {
      const err = Object.assign(new Error("no checked address of the requested family"), { code: "ENOTFOUND" });
      return options.all ? callback(err, []) : callback(err, "", 0);
    }
    if (options.all) return callback(null, usable);
    return callback(null, first.address, first.family);
  };
}
