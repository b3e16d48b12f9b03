// The gateway inside a dialog, as a carrier or a PBX drives it: Record-Route and the route set,
// an INVITE without SDP, hold and resume by re-INVITE, session-timer refreshes by UPDATE, methods it
// does not take in a call (405), and a phone on the gateway's own IP that still gets its BYE.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { pausingNumber, phoneRtp, startGateway } from "./harness.js";
import { type RawPeer, rawPeer, request, type SipText, sdpOffer } from "./raw-sip.js";

const final = (m: SipText) => (m.status ?? 0) >= 200;

/** A number whose app says a word, pauses `seconds` (RTP silence flows) and hangs up (a first Pause would not answer). */

/** Places a call from `peer` and acknowledges the 200; returns what the in-dialog requests need. */
async function call(
  peer: RawPeer,
  gwPort: number,
  number: string,
  opts: { body?: string; headers?: string[]; ackBody?: string } = {},
) {
  const uri = `sip:${number}@127.0.0.1:${gwPort}`;
  const callId = randomBytes(8).toString("hex");
  const from = `<sip:15557654321@${peer.address}:${peer.port}>;tag=${randomBytes(4).toString("hex")}`;
  peer.send(request(peer, "INVITE", uri, { callId, from, ...opts }));
  const ok = await peer.next(final, 15_000);
  expect(ok.status, ok.start).toBe(200);
  const to = ok.header("To") ?? "";
  let cseq = 1;
  const inDialog = (method: string, extra: { headers?: string[]; body?: string } = {}) =>
    request(peer, method, uri, { callId, from, to, cseq: method === "ACK" ? cseq : ++cseq, ...extra });
  peer.send(inDialog("ACK", opts.ackBody ? { body: opts.ackBody } : {}));
  return { ok, callId, inDialog, ack: () => peer.send(inDialog("ACK")), lastCseq: () => cseq };
}

describe("SIP dialogs", () => {
  it("copies Record-Route into its responses and sends its BYE along the route set", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using _app = await pausingNumber(engine, "+15551230020", 1);
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    // The "proxy" is the peer itself; the Contact names a port nobody listens on, so the BYE only
    // arrives by following the route.
    const route = `<sip:127.0.0.2:${peer.port};lr>`;
    const invite = request(peer, "INVITE", `sip:+15551230020@127.0.0.1:${gw.sipPort}`, {
      headers: [`Record-Route: ${route}`],
      body: sdpOffer("127.0.0.2", 4000),
    }).replace(/^Contact: .*$/m, "Contact: <sip:phone@127.0.0.2:9>");
    peer.send(invite);
    const ok = await peer.next(final, 15_000);
    expect(ok.status).toBe(200);
    expect(ok.header("Record-Route")).toBe(route);
    const ringing = peer.received.find((m) => m.status === 180);
    expect(ringing?.header("Record-Route")).toBe(route);
    const callId = ok.header("Call-ID") ?? "";
    peer.send(
      request(peer, "ACK", "sip:phone@127.0.0.2:9", {
        callId,
        to: ok.header("To") ?? "",
        from: ok.header("From") ?? "",
      }),
    );
    const bye = await peer.next((m) => m.method === "BYE", 15_000);
    expect(bye.start).toBe("BYE sip:phone@127.0.0.2:9 SIP/2.0");
    expect(bye.header("Route")).toBe(route);
  });

  it("offers in its 200 when the INVITE has no SDP, and sends to the ACK's answer", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using _app = await pausingNumber(engine, "+15551230021", 1);
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    await using phone = await phoneRtp();
    // The answer picks PCMA: the packets prove the gateway read it.
    const answer = sdpOffer("127.0.0.2", phone.port).replace(/RTP\/AVP 0 8 101/, "RTP/AVP 8 101");
    const { ok } = await call(peer, gw.sipPort, "+15551230021", { ackBody: answer });
    expect(ok.header("Content-Type")).toBe("application/sdp");
    expect(ok.body).toMatch(/^m=audio \d+ RTP\/AVP 0 8 101\r$/m);
    await phone.waitForPackets(20);
    expect(phone.packets.every((p) => p.payloadType === 8)).toBe(true);
    await peer.next((m) => m.method === "BYE", 15_000);
  });

  it("holds and resumes on re-INVITE, refreshes by UPDATE, and refuses REFER with 405", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using _app = await pausingNumber(engine, "+15551230022", 20);
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    await using phone = await phoneRtp();
    const d = await call(peer, gw.sipPort, "+15551230022", { body: sdpOffer("127.0.0.2", phone.port) });
    await phone.waitForPackets(10);
    const version = Number(/^o=\S+ \d+ (\d+)/m.exec(d.ok.body)?.[1]);

    peer.send(d.inDialog("INVITE", { body: sdpOffer("127.0.0.2", phone.port, { extra: ["a=sendonly"] }) }));
    const held = await peer.next(final);
    expect(held.status).toBe(200);
    expect(held.body).toContain("a=recvonly\r\n");
    expect(Number(/^o=\S+ \d+ (\d+)/m.exec(held.body)?.[1])).toBeGreaterThan(version);
    peer.send(d.inDialog("ACK"));
    // On hold the gateway sends nothing: no packet in a window of 25 frame times.
    const atHold = phone.packets.length;
    await expect(phone.waitForPackets(atHold + 2, 500)).rejects.toThrow(/RTP packets/);

    peer.send(d.inDialog("INVITE", { body: sdpOffer("127.0.0.2", phone.port) }));
    const resumed = await peer.next(final);
    expect(resumed.body).toContain("a=sendrecv\r\n");
    peer.send(d.inDialog("ACK"));
    await phone.waitForPackets(phone.packets.length + 10);

    peer.send(d.inDialog("UPDATE", { headers: ["Session-Expires: 1800;refresher=uac", "Supported: timer"] }));
    const refreshed = await peer.next(final);
    expect(refreshed.status).toBe(200);
    expect(refreshed.header("Session-Expires")).toBe("1800;refresher=uac");
    expect(refreshed.header("Require")).toBe("timer");

    peer.send(d.inDialog("REFER", { headers: ["Refer-To: <sip:bob@127.0.0.2>"] }));
    const refer = await peer.next(final);
    expect(refer.start).toBe("SIP/2.0 405 Method Not Allowed");
    expect(refer.header("Allow")).toContain("UPDATE");
    // It takes NOTIFY (the reports on a REFER it sent), not REFER.
    expect(refer.header("Allow")?.split(/,\s*/)).toContain("NOTIFY");
    expect(refer.header("Allow")).not.toContain("REFER");
    expect(refer.header("Reason")).toContain("cause=405");

    peer.send(d.inDialog("BYE"));
    expect((await peer.next(final)).status).toBe(200);
  });

  it("sends its BYE to a phone on its own IP address", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using _app = await pausingNumber(engine, "+15551230023", 1);
    await using gw = await startGateway(engine);
    // 127.0.0.1 is the gateway's own address: the sip package's create() took it for a flow token.
    await using peer = await rawPeer("127.0.0.1", gw.sipPort);
    await call(peer, gw.sipPort, "+15551230023", { body: sdpOffer("127.0.0.1", 4000) });
    const bye = await peer.next((m) => m.method === "BYE", 15_000);
    expect(bye.start).toMatch(/^BYE sip:raw@127\.0\.0\.1:\d+ SIP\/2\.0$/);
  });
});
