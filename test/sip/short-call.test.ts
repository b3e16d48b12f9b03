// A real SIP caller (sipp) on the gateway: answered, hears a prompt, hung up by the app.
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

describe("the SIP gateway", () => {
  it("answers a SIP call, plays the app's Say over RTP and hangs up with BYE", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hello");
        r.hangup();
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: "+15551230001", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    const result = await sipp(gw.sipPort, "short.xml", { to: "+15551230001", keys: { rtpport: phone.port } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const [voice] = await app.waitForRequests(1);
    expect(voice?.params).toMatchObject({
      To: "+15551230001",
      From: "+15557654321",
      "SipHeader_X-Customer-Id": "42",
    });
    expect(voice?.params.SipCallId).toMatch(/.+/);
    expect(phone.packets.length).toBeGreaterThan(10);
  });
});
