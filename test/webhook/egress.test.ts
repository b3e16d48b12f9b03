// The egress policy: a tenant's URL must not reach internal networks unless they are allowed.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { WebhookClient } from "../../src/webhook/client.js";
import { EgressPolicy, parseCidr } from "../../src/webhook/egress.js";
import { SPECIAL_IPV4, SPECIAL_IPV6 } from "../../src/webhook/special-ranges.js";

const TWIML = '<?xml version="1.0"?><Response/>';
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/bounce") res.writeHead(302, { Location: `http://127.0.0.1:${port}/ok` }).end();
    else res.writeHead(200, { "Content-Type": "text/xml" }).end(TWIML);
  });
  // All of 127.0.0.0/8 is loopback on Linux: one server answers as 127.0.0.1 and 127.0.0.2.
  await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
  port = (server.address() as AddressInfo).port;
});
const web = new WebhookClient();
afterAll(async () => {
  await web.close();
  await new Promise((r) => server.close(r));
});
afterEach(() => {
  web.egress = EgressPolicy.allowAll();
});

const get = (url: string) => web.request({ url, method: "POST", params: {}, authToken: "token-123456" });
const refusal = async (url: string) => {
  const err = await get(url).catch((e) => e);
  expect(err).toBeInstanceOf(SwitchboardError);
  return err as SwitchboardError;
};

describe("EgressPolicy", () => {
  it("refuses private, loopback and link-local addresses by default and allows public ones", () => {
    const p = EgressPolicy.internalDenied();
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "::1",
      "fd00::1",
      "::ffff:10.0.0.1",
    ]) {
      expect(p.allows(ip), ip).toBe(false);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "172.32.0.1"])
      expect(p.allows(ip), ip).toBe(true);
  });

  it("allows the networks it is given", () => {
    const p = EgressPolicy.internalDenied(["127.0.0.0/8", "10.5.0.0/16"]);
    expect(p.allows("127.0.0.9")).toBe(true);
    expect(p.allows("10.5.9.9")).toBe(true);
    expect(p.allows("10.6.0.1")).toBe(false);
  });

  it("answers an address the same when asked again, and after its memo of answers filled", () => {
    const p = EgressPolicy.internalDenied(["10.5.0.0/16"]);
    const asked = ["10.5.1.1", "10.6.1.1", "::ffff:10.6.1.1", "::ffff:10.5.1.1", "8.8.8.8", "::1"];
    const first = asked.map((a) => p.allows(a));
    expect(first).toEqual([true, false, false, true, true, false]);
    expect(asked.map((a) => p.allows(a))).toEqual(first);
    // More distinct addresses than the memo holds (public and private alike), then the same questions.
    for (let i = 0; i < 5_000; i++) {
      expect(p.allows(`${i % 2 ? 192 : 10}.168.${(i >> 8) & 255}.${i & 255}`)).toBe(false);
      expect(p.allows(`1.2.${(i >> 8) & 255}.${i & 255}`)).toBe(true);
    }
    expect(asked.map((a) => p.allows(a))).toEqual(first);
  });

  it("rejects a malformed network", () => {
    expect(() => parseCidr("10.0.0.0/33")).toThrow(/prefix/);
    expect(() => parseCidr("not-an-ip/8")).toThrow(/not an IP network/);
  });
});

describe("special-purpose addresses (issue #16, item 10)", () => {
  const p = EgressPolicy.internalDenied();

  it("refuses the addresses the issue found allowed", () => {
    for (const ip of [
      "::7f00:1",
      "64:ff9b::808:808",
      "2002:808:808::1",
      "198.18.0.1",
      "198.19.255.254",
      "240.0.0.1",
    ])
      expect(p.allows(ip), ip).toBe(false);
  });

  it("refuses the first address of every row of IANA's special-purpose registries", () => {
    for (const { cidr, name } of [...SPECIAL_IPV4, ...SPECIAL_IPV6]) {
      const net = cidr.split("/")[0] as string;
      expect(p.allows(net), `${cidr} ${name}`).toBe(false);
    }
  });

  it("refuses addresses inside the blocks, not only their first", () => {
    for (const ip of [
      "192.0.0.171",
      "192.0.2.77",
      "198.51.100.200",
      "203.0.113.9",
      "255.255.255.255",
      "192.88.99.1",
      "100.127.255.254",
      "2001:db8::dead",
      "3fff:fff::1",
      "5f00:1234::1",
      "100::ffff",
      "2001:2::99",
      "fec0::1",
    ])
      expect(p.allows(ip), ip).toBe(false);
  });

  it("judges the IPv4 address an IPv6 form carries: mapped, compatible, translated, NAT64, 6to4, Teredo", () => {
    // Teredo: server 65.54.227.120, client 10.0.0.1 stored inverted (f5ff:fffe).
    const forms = [
      "::ffff:127.0.0.1",
      "::127.0.0.1",
      "::ffff:0:a00:1",
      "64:ff9b::a9fe:a9fe",
      "64:ff9b:1:a00:0:100::",
      "2002:a00:1::1",
      "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ];
    for (const ip of forms) expect(p.allows(ip), ip).toBe(false);
    // Allowing a translator's prefix opens public IPv4 through it, never the private networks behind it.
    const nat64 = EgressPolicy.internalDenied(["64:ff9b::/96", "2002::/16"]);
    expect(nat64.allows("64:ff9b::808:808")).toBe(true);
    expect(nat64.allows("2002:808:808::1")).toBe(true);
    expect(nat64.allows("64:ff9b::a9fe:a9fe")).toBe(false);
    expect(nat64.allows("2002:a00:1::1")).toBe(false);
    // A mapped address is the IPv4 address itself.
    expect(p.allows("::ffff:8.8.8.8")).toBe(true);
  });

  it("still lets --allow-egress open a special-purpose block", () => {
    const open = EgressPolicy.internalDenied(["198.18.0.0/15", "::/96", "127.0.0.0/8"]);
    expect(open.allows("198.18.0.1")).toBe(true);
    expect(open.allows("::7f00:1")).toBe(true);
    expect(open.allows("240.0.0.1")).toBe(false);
  });

  it("refuses an IPv4-compatible loopback literal with 11200 before connecting", async () => {
    web.egress = EgressPolicy.internalDenied();
    const err = await refusal(`http://[::7f00:1]:${port}/ok`);
    expect(err.code).toBe(11200);
    expect(err.message).toMatch(/egress policy/);
  });
});

describe("webhook requests under a policy", () => {
  it("refuses an internal IP literal with 11200 before connecting", async () => {
    web.egress = EgressPolicy.internalDenied();
    const err = await refusal(`http://127.0.0.1:${port}/ok`);
    expect(err.code).toBe(11200);
    expect(err.message).toMatch(/egress policy/);
  });

  it("refuses a name that resolves to an internal address", async () => {
    web.egress = EgressPolicy.internalDenied();
    const err = await refusal(`http://localhost:${port}/ok`);
    expect(err.code).toBe(11200);
    expect(err.message).toMatch(/egress policy/);
  });

  it("refuses a redirect from an allowed host to an internal one", async () => {
    web.egress = EgressPolicy.internalDenied(["127.0.0.2/32"]);
    expect((await get(`http://127.0.0.2:${port}/ok`)).status).toBe(200);
    const err = await refusal(`http://127.0.0.2:${port}/bounce`);
    expect(err.message).toMatch(/127\.0\.0\.1.*egress policy/);
  });

  it("lets allowed networks through, by IP and by name", async () => {
    web.egress = EgressPolicy.internalDenied(["127.0.0.0/8", "::1/128"]);
    expect((await get(`http://127.0.0.1:${port}/ok`)).status).toBe(200);
    expect((await get(`http://localhost:${port}/ok`)).status).toBe(200);
  });
});
