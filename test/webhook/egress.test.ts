// The egress policy: a tenant's URL must not reach internal networks unless they are allowed.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { WebhookClient } from "../../src/webhook/client.js";
import { EgressPolicy, parseCidr } from "../../src/webhook/egress.js";

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

  it("rejects a malformed network", () => {
    expect(() => parseCidr("10.0.0.0/33")).toThrow(/prefix/);
    expect(() => parseCidr("not-an-ip/8")).toThrow(/not an IP network/);
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
