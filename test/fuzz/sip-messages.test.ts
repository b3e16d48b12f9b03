// SIP from anyone on the network: valid requests mutated (lines dropped, repeated or cut, values
// replaced with hostile ones, lengths that lie) over UDP and TCP never throw in the gateway (an
// uncaught throw in a socket handler would end `switchboard sip`), never get a 500, and leave it
// taking calls.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startGateway } from "../sip/harness.js";
import { type RawPeer, rawPeer, request, sdpOffer } from "../sip/raw-sip.js";
import { runs } from "./expect-refusal.js";

const HOSTILE = [
  "",
  " ",
  "0",
  "-1",
  "4294967296",
  "99999999999999999999",
  "\u0000",
  "é",
  "<>",
  ";;;",
  ",",
  "sip:",
  "<sip:@>",
  "a".repeat(3000),
  "%",
  '"',
  "SIP/2.0",
  "\t",
];

/** One change to a message's lines: [kind, where, value]. */
type Mutation = [number, number, string];

function mutate(text: string, mutations: Mutation[]): string {
  let lines = text.split("\r\n");
  for (const [kind, at, value] of mutations) {
    const i = at % lines.length;
    const line = lines[i] ?? "";
    switch (kind % 7) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, line);
        break;
      case 2: {
        const colon = line.indexOf(":");
        lines[i] = colon > 0 ? `${line.slice(0, colon + 1)} ${value}` : value;
        break;
      }
      case 3: {
        const space = line.indexOf(" ", at % Math.max(1, line.length));
        lines[i] = space > 0 ? `${line.slice(0, space)} ${value}${line.slice(space)}` : `${line}${value}`;
        break;
      }
      case 4:
        return lines.join("\r\n").slice(0, at % text.length);
      case 5:
        lines = lines.map((l) => (/^content-length/i.test(l) ? `Content-Length: ${value}` : l));
        break;
      default:
        lines[i] = line.replace(/\d+/, value);
    }
  }
  return lines.join("\r\n");
}

describe("SIP messages from anyone", () => {
  it("never crash the gateway or get a 500, over UDP or TCP", { timeout: 120_000 }, async () => {
    await using engine = await startTestEngine();
    // The number's app refuses each call: an answered one whose Contact and From were mutated to
    // nowhere would hold the gateway's stop for its BYE's 32 s (RFC 3261 Timer F). The INVITE's
    // parsing, its SDP's and the routing to the app are the same.
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => ({ body: new VoiceResponse().reject().toString() }),
    });
    await engine.addNumber({ number: "+15551230077", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    await using udp = await rawPeer("127.0.0.2", gw.sipPort);
    const uri = `sip:+15551230077@127.0.0.1:${gw.sipPort}`;
    const callId = randomBytes(6).toString("hex");
    const templates = (peer: Pick<RawPeer, "address" | "port" | "transport">) => [
      request(peer, "INVITE", uri, { body: sdpOffer("127.0.0.2", 4000) }),
      request(peer, "INVITE", uri, { callId, body: sdpOffer("127.0.0.2", 4002) }),
      request(peer, "ACK", uri, { callId }),
      request(peer, "BYE", uri, { callId, cseq: 2 }),
      request(peer, "CANCEL", uri, { callId }),
      request(peer, "OPTIONS", uri),
      request(peer, "INFO", uri, {
        callId,
        cseq: 3,
        headers: ["Content-Type: application/dtmf-relay"],
        body: "Signal=5\r\nDuration=160\r\n",
      }),
      request(peer, "REGISTER", uri),
      [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx",
        "From: <sip:a@b>;tag=1",
        "To: <sip:c@d>;tag=2",
        `Call-ID: ${callId}`,
        "CSeq: 1 INVITE",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    ];
    const mutation = fc.tuple(
      fc.nat(),
      fc.nat(),
      fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 40 })),
    );
    const message = fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }));

    await fc.assert(
      fc.asyncProperty(message, async ([which, mutations]) => {
        const all = templates(udp);
        udp.send(mutate(all[which % all.length] as string, mutations));
        await new Promise((resolve) => setImmediate(resolve));
      }),
      runs(150),
    );
    // Over TCP, a connection a message: one whose framing breaks loses its connection.
    await fc.assert(
      fc.asyncProperty(message, async ([which, mutations]) => {
        await using tcp = await rawPeer("127.0.0.2", gw.sipPort, "TCP");
        const all = templates(tcp);
        tcp.send(mutate(all[which % all.length] as string, mutations));
        await new Promise((resolve) => setImmediate(resolve));
      }),
      runs(40),
    );

    // Still taking calls: a sound INVITE reaches the app, which refuses it.
    const last = randomBytes(6).toString("hex");
    udp.send(request(udp, "INVITE", uri, { callId: last, body: sdpOffer("127.0.0.2", 4004) }));
    const answer = await udp.next((m) => m.header("call-id") === last && (m.status ?? 0) >= 200, 10_000);
    expect(answer.start).toBe("SIP/2.0 603 Decline");
    expect(udp.received.filter((m) => m.status === 500).map((m) => m.header("reason"))).toEqual([]);
  });
});
