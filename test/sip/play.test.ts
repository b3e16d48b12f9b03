// <Play> on a SIP call: the file fetched (and revalidated with its ETag), resampled to 8 kHz μ-law
// and streamed; its digits sent as RFC 4733 events on the payload type the caller offered.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { DtmfReceiver } from "../../src/sip/rtp/telephone-event.js";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

describe("<Play> on a SIP call", () => {
  it("streams a WAV (cached by ETag) and sends its digits as telephone-events", {
    timeout: 60_000,
  }, async () => {
    // Half a second of 1 kHz at 16 kHz: the gateway resamples it.
    const wav = wavFromPcm(
      Int16Array.from({ length: 8000 }, (_, i) =>
        Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)),
      ),
      16000,
    );
    const fetches: IncomingHttpHeaders[] = [];
    const media = createServer((req, res) => {
      fetches.push(req.headers);
      if (req.headers["if-none-match"] === '"v1"') return void res.writeHead(304).end();
      res.writeHead(200, { "Content-Type": "audio/wav", ETag: '"v1"' }).end(Buffer.from(wav));
    });
    await new Promise<void>((resolve) => media.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(media.address() as AddressInfo).port}/tone.wav`;
    try {
      await using engine = await startTestEngine();
      await using app = await startTwilioApp(engine.authToken, {
        "/voice": () => {
          const r = new VoiceResponse();
          r.play({ digits: "1w#" }, url);
          r.play({ loop: 2 }, url);
          r.hangup();
          return { body: r.toString() };
        },
      });
      await engine.addNumber({ number: "+15551230009", voiceUrl: `${app.url}/voice` });
      await using gw = await startGateway(engine);
      await using phone = await phoneRtp();
      const result = await sipp(gw.sipPort, "short.xml", {
        to: "+15551230009",
        // The caller offers telephone-event as 96 (sipp's play_dtmf type), not the usual 101.
        keys: { rtpport: phone.port, codecs: "8 96", dtmf_pt: 96 },
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const rx = new DtmfReceiver();
      const keys = phone.packets
        .filter((p) => p.payloadType === 96)
        .map((p) => rx.receive(p.ssrc, p.timestamp, p.payload))
        .filter((k) => k !== undefined);
      expect(keys.join("")).toBe("1#");
      // A-law, as the caller offered; three plays of 0.5 s are ≥ 75 packets of tone.
      const audio = phone.packets.filter((p) => p.payloadType === 8);
      expect(
        audio.filter((p) => p.payload.some((b) => b !== 0xd5 && b !== 0x55)).length,
      ).toBeGreaterThanOrEqual(70);
      expect(fetches).toHaveLength(3);
      expect(fetches.slice(1).every((h) => h["if-none-match"] === '"v1"')).toBe(true);
    } finally {
      media.close();
    }
  });
});
