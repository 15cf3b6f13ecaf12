// http.allow (SPEC section 2): the rule grammar and the decision, as pure functions.
// No traffic: the full path against a local server is in p2.test.ts.

import { describe, expect, it } from "vitest";
import { parseAllowRule } from "../src/registry/http-allow.ts";
import { checkDestination, classify, decide, pinnedLookup } from "../src/wasi/p2/http-policy.ts";

const allowed = (addresses: string[]) => ({ allowed: true, addresses });
const refused = (reason: RegExp) => ({ allowed: false, reason: expect.stringMatching(reason) });

describe("http.allow items", () => {
  it.each([
    ["api.example.com", { kind: "name", name: "api.example.com" }],
    ["API.Example.COM.", { kind: "name", name: "api.example.com" }],
    ["example.com:8443", { kind: "name", name: "example.com", port: 8443 }],
    ["localhost", { kind: "name", name: "localhost" }],
    ["bücher.de", { kind: "name", name: "xn--bcher-kva.de" }],
    ["*.example.com", { kind: "domain", suffix: "example.com" }],
    ["*.example.com:443", { kind: "domain", suffix: "example.com", port: 443 }],
    ["10.0.0.5", { kind: "address", family: 4, network: 0x0a000005n, prefix: 32 }],
    ["127.0.0.1:8080", { kind: "address", family: 4, network: 0x7f000001n, prefix: 32, port: 8080 }],
    ["10.0.0.0/8", { kind: "address", family: 4, network: 0x0a000000n, prefix: 8 }],
    ["::1", { kind: "address", family: 6, network: 1n, prefix: 128 }],
    ["[::1]:8080", { kind: "address", family: 6, network: 1n, prefix: 128, port: 8080 }],
    ["fd00::/8", { kind: "address", family: 6, network: 0xfdn << 120n, prefix: 8 }],
    ["::ffff:10.0.0.1", { kind: "address", family: 6, network: 0xffff0a000001n, prefix: 128 }],
  ])("%s", (text, rule) => {
    expect(parseAllowRule(text)).toEqual({ ok: true, rule });
  });

  it.each([
    ["*", /leave http.allow out/],
    ["http://example.com", /is a URL: list its host instead/],
    ["example.com/path", /is not a host name, host:port, \*\.domain, an IP address or a CIDR .*: list hosts, not paths/],
    ["10.0.0.0/8/8", /is not a CIDR/],
    ["example.com:0", /invalid port "0"/],
    ["example.com:99999", /invalid port "99999"/],
    ["example.com:", /invalid port ""/],
    ["ex ample.com", /is not a host name/],
    ["-bad.com", /is not a host name/],
    ["0x7f.1", /is not a host name/], // the URL parser reads it as 127.0.0.1
    ["*.", /not a valid \*\.domain/],
    ["10.0.0.0/33", /invalid prefix length "33": use 0 to 32/],
    ["10.1.2.3/8", /bits set past its \/8 prefix; did you mean 10.0.0.0\/8\?/],
    ["fd00::1/8", /did you mean fd00::\/8\?/],
    ["[example.com]:80", /not an IPv6 address in brackets/],
    ["a:b:c", /is not a host name/],
  ])("refuses %s", (text, message) => {
    const parsed = parseAllowRule(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.message).toMatch(message);
  });
});

describe("address classes refused by default", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.20.30.40", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.169.254", "link-local"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fd12:3456::1", "unique-local"],
    ["fc00::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["64:ff9b::a00:1", "private"],
    ["::7f00:1", "loopback"],
  ])("%s is %s", (address, cls) => {
    expect(classify(address)?.cls).toBe(cls);
  });

  it.each(["8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "11.0.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is public", (address) => {
    expect(classify(address)).toBeUndefined();
  });
});

describe("decide", () => {
  it("without allow: any public address, never an internal one", () => {
    expect(decide(undefined, "example.com", 443, ["93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
    expect(decide(undefined, "127.0.0.1", 80, ["127.0.0.1"])).toEqual(refused(/^127\.0\.0\.1 is a loopback address, refused unless http\.allow lists it/));
    expect(decide(undefined, "::1", 80, ["::1"])).toEqual(refused(/::1 is a loopback address/));
    expect(decide(undefined, "localhost", 80, ["::1", "127.0.0.1"])).toEqual(refused(/^localhost resolves to ::1, a loopback address/));
    expect(decide(undefined, "169.254.169.254", 80, ["169.254.169.254"])).toEqual(refused(/link-local/));
    expect(decide(undefined, "::ffff:10.0.0.1", 80, ["::ffff:10.0.0.1"])).toEqual(refused(/private/));
    expect(decide(undefined, "0.0.0.0", 80, ["0.0.0.0"])).toEqual(refused(/'this network'/));
  });

  it("a name that resolves to public and internal addresses keeps only the public ones", () => {
    expect(decide(undefined, "rebind.example", 80, ["10.0.0.1", "93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
    expect(decide(["rebind.example"], "rebind.example", 80, ["127.0.0.1", "93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
  });

  it("a listed name that resolves to an internal address is still refused (no DNS rebinding)", () => {
    expect(decide(["api.example.com"], "api.example.com", 443, ["10.1.2.3"])).toEqual(
      refused(/^api\.example\.com resolves to 10\.1\.2\.3, a private address: a listed name may not lead there; list the address itself/),
    );
    expect(decide(["*.example.com"], "x.example.com", 443, ["192.168.0.7"])).toEqual(refused(/private address: a listed name/));
    expect(decide(["evil.example"], "evil.example", 80, ["::ffff:127.0.0.1"])).toEqual(refused(/loopback/));
    // localhost opens loopback for the name localhost only, not for other names that resolve there
    expect(decide(["localhost", "evil.example"], "evil.example", 80, ["127.0.0.1"])).toEqual(refused(/loopback address: a listed name/));
  });

  it("names, host:port and *.domain", () => {
    expect(decide(["api.example.com"], "api.example.com", 443, ["93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
    expect(decide(["api.example.com"], "API.example.com.", 443, ["93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
    expect(decide(["api.example.com"], "www.example.com", 443, ["93.184.216.34"])).toEqual(refused(/^www\.example\.com:443 is not in http\.allow$/));
    expect(decide(["example.com:8443"], "example.com", 8443, ["93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
    expect(decide(["example.com:8443"], "example.com", 443, ["93.184.216.34"])).toEqual(refused(/example\.com:443 is not in http\.allow/));
    expect(decide(["*.example.com"], "a.b.example.com", 80, ["93.184.216.34"])).toEqual(allowed(["93.184.216.34"]));
    expect(decide(["*.example.com"], "example.com", 80, ["93.184.216.34"])).toEqual(refused(/not in http\.allow/));
    expect(decide(["*.example.com"], "badexample.com", 80, ["93.184.216.34"])).toEqual(refused(/not in http\.allow/));
    // a listed name does not allow the address it resolves to when asked for by address
    expect(decide(["example.com"], "93.184.216.34", 80, ["93.184.216.34"])).toEqual(refused(/93\.184\.216\.34:80 is not in http\.allow/));
    expect(decide([], "example.com", 80, ["93.184.216.34"])).toEqual(refused(/not in http\.allow/));
  });

  it("an IP or CIDR lets its addresses through, internal ones included, whatever name led there", () => {
    expect(decide(["127.0.0.1"], "127.0.0.1", 8080, ["127.0.0.1"])).toEqual(allowed(["127.0.0.1"]));
    expect(decide(["127.0.0.1"], "::ffff:127.0.0.1", 8080, ["::ffff:127.0.0.1"])).toEqual(allowed(["::ffff:127.0.0.1"]));
    expect(decide(["::ffff:127.0.0.1"], "127.0.0.1", 80, ["127.0.0.1"])).toEqual(allowed(["127.0.0.1"]));
    expect(decide(["127.0.0.1"], "127.0.0.2", 80, ["127.0.0.2"])).toEqual(refused(/127\.0\.0\.2:80 is not in http\.allow/));
    expect(decide(["10.0.0.0/8"], "db.internal", 5432, ["10.9.8.7"])).toEqual(allowed(["10.9.8.7"]));
    expect(decide(["10.0.0.0/8"], "db.internal", 5432, ["11.0.0.1"])).toEqual(refused(/not in http\.allow/));
    expect(decide(["169.254.0.0/16"], "169.254.169.254", 80, ["169.254.169.254"])).toEqual(allowed(["169.254.169.254"]));
    expect(decide(["fd00::/8"], "fd00::5", 80, ["fd00::5"])).toEqual(allowed(["fd00::5"]));
    expect(decide(["fd00::/8"], "fc00::5", 80, ["fc00::5"])).toEqual(refused(/\[fc00::5\]:80 is not in http\.allow/));
    expect(decide(["[::1]:8080"], "::1", 8080, ["::1"])).toEqual(allowed(["::1"]));
    expect(decide(["[::1]:8080"], "::1", 8081, ["::1"])).toEqual(refused(/not in http\.allow/));
    expect(decide(["127.0.0.1:8080"], "127.0.0.1", 9090, ["127.0.0.1"])).toEqual(refused(/127\.0\.0\.1:9090 is not in http\.allow/));
    // a mapped-IPv6 rule that is not an exact IPv4 stays a CIDR over IPv4
    expect(decide(["::ffff:10.0.0.0/104"], "10.5.5.5", 80, ["10.5.5.5"])).toEqual(allowed(["10.5.5.5"]));
  });

  it("localhost: loopback addresses, reached as localhost or by address; nothing else internal", () => {
    expect(decide(["localhost"], "localhost", 8080, ["::1", "127.0.0.1"])).toEqual(allowed(["::1", "127.0.0.1"]));
    expect(decide(["localhost"], "127.0.0.1", 8080, ["127.0.0.1"])).toEqual(allowed(["127.0.0.1"]));
    expect(decide(["localhost"], "::1", 8080, ["::1"])).toEqual(allowed(["::1"]));
    expect(decide(["localhost"], "10.0.0.1", 80, ["10.0.0.1"])).toEqual(refused(/not in http\.allow/));
    expect(decide(["localhost"], "localhost", 80, ["10.0.0.1"])).toEqual(refused(/localhost resolves to 10\.0\.0\.1, a private address/));
    expect(decide(["localhost:3000"], "localhost", 3001, ["127.0.0.1"])).toEqual(refused(/localhost:3001 is not in http\.allow/));
  });

  it("checks the host the URL parser reads, and resolves names only", async () => {
    const asked: string[] = [];
    const resolve = async (host: string) => (asked.push(host), ["10.0.0.1"]);
    expect(await checkDestination(new URL("http://0x7f.1:8080/"), undefined, resolve)).toEqual(refused(/^127\.0\.0\.1 is a loopback/));
    expect(await checkDestination(new URL("http://2130706433/"), ["127.0.0.1"], resolve)).toEqual(allowed(["127.0.0.1"]));
    expect(await checkDestination(new URL("http://[::ffff:127.0.0.1]/"), undefined, resolve)).toEqual(refused(/loopback/));
    expect(asked).toEqual([]);
    expect(await checkDestination(new URL("https://Internal.Example/"), ["internal.example:443"], resolve)).toEqual(refused(/internal\.example resolves to 10\.0\.0\.1/));
    expect(asked).toEqual(["internal.example"]);
  });

  it("the pinned lookup answers with the checked addresses only", () => {
    const lookup = pinnedLookup(["::1", "127.0.0.1"]);
    const answers: unknown[] = [];
    lookup("anything.example", { all: true }, (err, addresses) => answers.push([err, addresses]));
    lookup("anything.example", { family: 4 }, (err, address, family) => answers.push([err, address, family]));
    lookup("anything.example", {}, (err, address, family) => answers.push([err, address, family]));
    expect(answers).toEqual([
      [null, [{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }]],
      [null, "127.0.0.1", 4],
      [null, "::1", 6],
    ]);
  });
});
