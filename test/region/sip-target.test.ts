// Which INVITE a <Dial> target of a SIP call becomes (region/dial/sip-target.ts), and how the gateway
// completes one that names its trunk (throughTrunk, store/trunks.ts): pure functions, no peers.
import { describe, expect, it } from "vitest";
import type { CallFacts } from "../../machines/call.machine.js";
import type { TrunkRecord } from "../../src/model/trunk.js";
import { sipLegRequest, type TrunkDirectory } from "../../src/region/dial/sip-target.js";
import { throughTrunk } from "../../src/store/trunks.js";

const facts: CallFacts = {
  callSid: `CA${"1".repeat(32)}`,
  accountSid: `AC${"2".repeat(32)}`,
  to: "+15551230001",
  from: "+15557654321",
  region: "us1",
  edge: "ashburn",
  direction: "inbound",
  apiVersion: "2010-04-01",
  phoneNumberSid: null,
};

function directory(number?: string, account?: string): TrunkDirectory {
  return {
    numbers: { get: (k) => (k === "15551230001" && number ? { outbound_trunk: number } : undefined) },
    accounts: { get: () => (account ? { outbound_trunk: account } : undefined) },
  };
}

const carrier: TrunkRecord = {
  name: "carrier",
  host: "sip.carrier.example",
  port: 5080,
  transport: "tcp",
  username: "acct",
  password: "pw",
  from_domain: "example.com",
  inbound_cidrs: [],
  date_created: "",
  date_updated: "",
};

describe("a <Dial> target as a SIP leg", () => {
  it("sends a <Sip> URI as written, its ? headers as X- headers, its credentials for a challenge, the calling account", () => {
    const warnings: number[] = [];
    const request = sipLegRequest(
      { directory: directory() },
      facts,
      {
        to: "sip:bob@example.com;transport=tcp?X-Ticket=4%202&Foo=1",
        auth: { username: "u", password: "p" },
      },
      "sip:alice@pbx.example",
      (code) => warnings.push(code),
    );
    expect(request).toEqual({
      uri: "sip:bob@example.com;transport=tcp",
      from: { user: "alice" },
      // A registered user's realm may be one account's (--realm-account): the gateway checks.
      accountSid: facts.accountSid,
      auth: { username: "u", password: "p" },
      headers: { "X-Ticket": "4 2" },
    });
    // Foo is not an X- header Twilio passes: warned about (13252) and left out.
    expect(warnings).toEqual([13252]);
  });

  it("names the trunk of the called number, else of the account, and leaves the rest to the network", () => {
    const ring = (d: TrunkDirectory, to = "+15559876543") =>
      sipLegRequest({ directory: d }, facts, { to }, "+15551230001", () => {});
    expect(ring(directory("own", "acct"))).toEqual({
      uri: "sip:+15559876543@own",
      trunk: "own",
      from: { user: "+15551230001" },
    });
    expect(ring(directory(undefined, "acct"))?.trunk).toBe("acct");
    expect(ring(directory())).toBeUndefined();
    expect(ring(directory("own"), "client:alice")).toBeUndefined();
  });

  it("is completed by the gateway from the trunk: host, next hop, credentials and From domain", () => {
    const o = throughTrunk(
      {
        legSid: facts.callSid,
        region: "us1",
        uri: "sip:+15559876543@carrier",
        trunk: "carrier",
        from: { user: "+15551230001" },
        timeoutMs: 30_000,
      },
      carrier,
    );
    expect(o).toMatchObject({
      uri: "sip:+15559876543@sip.carrier.example:5080",
      nextHop: { host: "sip.carrier.example", port: 5080, transport: "tcp" },
      auth: { username: "acct", password: "pw" },
      from: { user: "+15551230001", host: "example.com" },
    });
    const open = throughTrunk(o, {
      ...carrier,
      port: 5060,
      username: null,
      password: null,
      from_domain: null,
    });
    expect(open.uri).toBe("sip:+15559876543@sip.carrier.example");
    expect(open.from.host).toBe("sip.carrier.example");
  });
});
