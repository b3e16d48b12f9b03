// Where a dialog's own requests go (dialog.ts, hop()): to a caller behind NAT through its NAT, to a
// registered phone along its registration's flow, and otherwise where RFC 3261 says (the Contact, the
// route set) — a caller on a private network of its own keeps its Contact.
import * as sip from "sip";
import { describe, expect, it } from "vitest";
import { Dialog } from "../../src/sip/ua/dialog.js";
import type { SipMessage, SipStack } from "../../src/sip/ua/stack.js";

function invite(contact: string, extra: string[] = []): SipMessage {
  return sip.parse(
    [
      "INVITE sip:+15551230001@192.0.2.1 SIP/2.0",
      "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1",
      "From: <sip:alice@example.com>;tag=a",
      "To: <sip:+15551230001@192.0.2.1>",
      "Call-ID: 1@example.com",
      "CSeq: 1 INVITE",
      `Contact: <${contact}>`,
      ...extra,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  ) as SipMessage;
}

/** The stack's resolve, for an IP literal: the URI's host and port (UDP). */
const stack = {
  resolve: async (uri: string) => {
    const u = sip.parseUri(uri);
    return u
      ? { protocol: "UDP", address: u.host, port: Number.isFinite(u.port) ? u.port : 5060 }
      : undefined;
  },
} as unknown as SipStack;

const source = (address: string) => ({ protocol: "UDP", address, port: 40_000 });

describe("a dialog's next hop", () => {
  it("is the caller's source when its Contact is behind NAT and the source is not", async () => {
    const d = Dialog.uas(invite("sip:alice@192.168.1.10:5060"), "t", source("203.0.113.5"));
    expect(await d.hop(stack)).toEqual(source("203.0.113.5"));
  });

  it("is the Contact when the source is behind NAT too (a PBX on the gateway's own network)", async () => {
    const d = Dialog.uas(invite("sip:alice@10.0.0.7:5060"), "t", source("10.0.0.9"));
    expect(await d.hop(stack)).toEqual({ protocol: "UDP", address: "10.0.0.7", port: 5060 });
  });

  it("is the Contact when it is public, and the route set's first when there is one", async () => {
    const open = Dialog.uas(invite("sip:alice@198.51.100.7:5070"), "t", source("203.0.113.5"));
    expect(await open.hop(stack)).toEqual({ protocol: "UDP", address: "198.51.100.7", port: 5070 });
    const routed = Dialog.uas(
      invite("sip:alice@192.168.1.10:5060", ["Record-Route: <sip:198.51.100.1;lr>"]),
      "t",
      source("198.51.100.1"),
    );
    expect(await routed.hop(stack)).toEqual({ protocol: "UDP", address: "198.51.100.1", port: 5060 });
  });

  it("is a registered phone's flow for every request, whatever its Contact", async () => {
    const rq = invite("sip:gw@192.0.2.1");
    const rs = sip.makeResponse(rq, 200, "OK") as SipMessage;
    rs.headers.to = { ...rs.headers.to, params: { tag: "p" } };
    rs.headers.contact = [{ uri: "sip:alice@198.51.100.7:5070", params: {} }];
    const flow = { protocol: "TCP", address: "203.0.113.5", port: 40_001 };
    expect(await Dialog.uac(rq, rs, flow).hop(stack)).toEqual(flow);
    expect(await Dialog.uac(rq, rs).hop(stack)).toEqual({
      protocol: "UDP",
      address: "198.51.100.7",
      port: 5070,
    });
  });
});
