// Media from strangers (RTP injection, RTP bleed): someone who finds a call's RTP port and sends to it
// first must neither press keys in the call's IVR nor take its outbound stream. The gateway takes a
// call's RTP only from its SDP's address, its signalling peer's, and the networks allowed to call.
import type { Socket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { InboundAccess } from "../../src/sip/inbound-access.js";
import { buildRtp } from "../../src/sip/rtp/packet.js";
import { buildTelephoneEvent } from "../../src/sip/rtp/telephone-event.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, startGateway } from "./harness.js";
import { rawPeer, request, sdpOffer } from "./raw-sip.js";

/** Sends one key as RFC 4733 packets (start, then three end packets) from `socket`. */
async function pressKey(socket: Socket, to: { address: string; port: number }, event: number, ts: number) {
  const packets = [false, true, true, true].map((end, i) =>
    buildRtp({
      payloadType: 101,
      marker: i === 0,
      sequence: ts / 160 + i,
      timestamp: ts,
      ssrc: 0x5eed,
      payload: buildTelephoneEvent({ event, end, volume: 10, duration: 160 * (i + 1) }),
    }),
  );
  for (const p of packets)
    await new Promise<void>((resolve) => socket.send(p, to.port, to.address, () => resolve()));
}

describe("RTP from strangers", () => {
  it("presses no key in the call and takes none of its stream", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.gather({ numDigits: 1, timeout: 10, action: "/keys" }).say("Press a key.");
        return { body: r.toString() };
      },
      "/keys": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await engine.addNumber({ number: "+15551230055", voiceUrl: `${app.url}/voice` });
    // Only the caller's host may call; the stranger is elsewhere on the network.
    await using gw = await startGateway(engine, "gw1", { access: new InboundAccess(["127.0.0.2/32"]) });
    await using phone = await phoneRtp("127.0.0.2");
    await using stranger = await phoneRtp("127.0.0.3");
    await using sip = await rawPeer("127.0.0.2", gw.sipPort);
    const uri = `sip:+15551230055@127.0.0.1:${gw.sipPort}`;
    const from = "<sip:15557654321@127.0.0.2>;tag=caller";
    sip.send(
      request(sip, "INVITE", uri, { callId: "stranger-rtp", from, body: sdpOffer("127.0.0.2", phone.port) }),
    );
    const ok = await sip.next((m) => (m.status ?? 0) >= 200, 10_000);
    expect(ok.status).toBe(200);
    sip.send(request(sip, "ACK", uri, { callId: "stranger-rtp", from, to: ok.header("to") }));
    const media = {
      address: /c=IN IP4 (\S+)/.exec(ok.body)?.[1] ?? "",
      port: Number(/m=audio (\d+)/.exec(ok.body)?.[1]),
    };
    // The prompt is playing to the caller.
    await phone.waitForPackets(5);

    // The stranger sends first: a key, and audio.
    await pressKey(stranger.socket, media, 9, 16_000);
    await new Promise<void>((resolve) =>
      stranger.socket.send(
        buildRtp({
          payloadType: 0,
          marker: false,
          sequence: 200,
          timestamp: 32_000,
          ssrc: 0x5eed,
          payload: new Uint8Array(160),
        }),
        media.port,
        media.address,
        () => resolve(),
      ),
    );
    // Then the caller presses 5: that is the key the app gets.
    await pressKey(phone.socket, media, 5, 48_000);
    const keys = await app.waitFor((r) => r.path === "/keys", 10_000);
    expect(keys.params.Digits).toBe("5");
    expect(stranger.packets).toHaveLength(0);
  });
});
