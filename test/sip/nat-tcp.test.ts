// A gateway behind NAT and on TCP: --advertise puts the public address in Contact, Via and SDP,
// RTP goes where the caller's packets come from (symmetric RTP), and a large INVITE over TCP is a
// call like any other, its BYE sent back on the caller's connection. A caller whose Contact names its
// private address gets its BYE where its INVITE came from (UDP and TCP).

import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { buildRtp } from "../../src/sip/rtp/packet.js";
import { startTestEngine } from "../helpers/engine.js";
import { pausingNumber, phoneRtp, startGateway } from "./harness.js";
import { rawPeer, request, type SipText, sdpOffer } from "./raw-sip.js";

const final = (m: SipText) => (m.status ?? 0) >= 200;

describe("SIP behind NAT and over TCP", () => {
  it("advertises its public address and sends RTP where a NATed caller's packets come from", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using _app = await pausingNumber(engine, "+15551230030", 2);
    await using gw = await startGateway(engine, "gw1", { advertise: "192.0.2.7" });
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    // The phone is behind NAT: its SDP names its private address (127.0.0.2 here), its packets come
    // from the NAT's public one (127.0.0.3).
    await using phone = await phoneRtp("127.0.0.3");
    const unused = createSocket("udp4");
    await new Promise<void>((resolve) => unused.bind(0, "127.0.0.2", resolve));
    const seenThere: number[] = [];
    unused.on("message", () => seenThere.push(1));
    try {
      const uri = `sip:+15551230030@127.0.0.1:${gw.sipPort}`;
      const callId = randomBytes(6).toString("hex");
      const from = `<sip:15557654321@127.0.0.2:${peer.port}>;tag=nat1`;
      peer.send(
        request(peer, "INVITE", uri, { callId, from, body: sdpOffer("127.0.0.2", unused.address().port) }),
      );
      const ok = await peer.next(final, 15_000);
      expect(ok.status).toBe(200);
      expect(ok.header("Contact")).toMatch(/^<sip:switchboard@192\.0\.2\.7:\d+>$/);
      expect(ok.body).toContain("c=IN IP4 192.0.2.7\r\n");
      const rtpPort = Number(/^m=audio (\d+) /m.exec(ok.body)?.[1]);
      peer.send(request(peer, "ACK", uri, { callId, from, to: ok.header("To") ?? "" }));
      // The phone's first packet comes from another address than its SDP said: the gateway follows it.
      const silence = buildRtp({
        payloadType: 0,
        marker: true,
        sequence: 1,
        timestamp: 0,
        ssrc: 7,
        payload: new Uint8Array(160).fill(0xff),
      });
      phone.socket.send(silence, rtpPort, "127.0.0.1");
      await phone.waitForPackets(1);
      const before = seenThere.length;
      await phone.waitForPackets(10);
      // Until the caller's first packet the stream went to the SDP's port; after it, no more.
      expect(seenThere.length).toBeLessThanOrEqual(before + 1);
      const bye = await peer.next((m) => m.method === "BYE", 15_000);
      expect(bye.header("Via")).toMatch(/^SIP\/2\.0\/UDP 192\.0\.2\.7:\d+;/);
    } finally {
      unused.close();
    }
  });

  it("takes a large INVITE over TCP and sends its BYE on the same connection", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using _app = await pausingNumber(engine, "+15551230031", 1);
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort, "TCP");
    await using phone = await phoneRtp();
    const uri = `sip:+15551230031@127.0.0.1:${gw.sipPort}`;
    const callId = randomBytes(6).toString("hex");
    const from = `<sip:15557654321@127.0.0.2:${peer.port}>;tag=tcp1`;
    // Over 1300 bytes: past what fits a UDP datagram on a typical path MTU (RFC 3261 §18.1.1).
    const padding = Array.from({ length: 6 }, (_, i) => `P-Padding-${i}: ${"x".repeat(400)}`);
    const invite = request(peer, "INVITE", uri, {
      callId,
      from,
      headers: padding,
      body: sdpOffer("127.0.0.2", phone.port),
    });
    expect(invite.length).toBeGreaterThan(2500);
    peer.send(invite);
    const ok = await peer.next(final, 15_000);
    expect(ok.status).toBe(200);
    expect(ok.header("Via")).toMatch(/^SIP\/2\.0\/TCP /);
    peer.send(request(peer, "ACK", uri, { callId, from, to: ok.header("To") ?? "" }));
    await phone.waitForPackets(10);
    const bye = await peer.next((m) => m.method === "BYE", 15_000);
    expect(bye.header("Via")).toMatch(/^SIP\/2\.0\/TCP /);
  });

  it.each(["UDP", "TCP"] as const)(
    "sends its BYE where the INVITE came from when the Contact is behind NAT (%s)",
    { timeout: 60_000 },
    async (transport) => {
      await using engine = await startTestEngine();
      await using _app = await pausingNumber(engine, "+15551230032", 1);
      await using gw = await startGateway(engine);
      await using peer = await rawPeer("127.0.0.2", gw.sipPort, transport);
      await using phone = await phoneRtp();
      const uri = `sip:+15551230032@127.0.0.1:${gw.sipPort}`;
      const callId = randomBytes(6).toString("hex");
      const from = `<sip:15557654321@127.0.0.2:${peer.port}>;tag=natc`;
      // A softphone at home: its Contact is its private address, which no one outside reaches.
      const contact = `sip:raw@192.168.1.10:5060${transport === "TCP" ? ";transport=tcp" : ""}`;
      peer.send(
        request(peer, "INVITE", uri, { callId, from, contact, body: sdpOffer("127.0.0.2", phone.port) }),
      );
      const ok = await peer.next(final, 15_000);
      expect(ok.status).toBe(200);
      peer.send(request(peer, "ACK", uri, { callId, from, contact, to: ok.header("To") ?? "" }));
      const bye = await peer.next((m) => m.method === "BYE", 15_000);
      // The Request-URI is still the Contact (the phone's own), sent to where the phone is reached.
      expect(bye.start).toBe(`BYE ${contact} SIP/2.0`);
      expect(bye.header("Call-ID")).toBe(callId);
    },
  );
});
