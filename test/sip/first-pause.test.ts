// A document whose first verb is a <Pause> on a SIP call: Twilio holds the answer off for the pause
// (the caller hears ringing), then answers and runs the rest. The gateway timed a pause by its RTP
// stream, which only runs from the answer, so such a pause never ended and the call hung in ringing.
import { describe, expect, it } from "vitest";
import { bounded } from "../helpers/bounded.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

const NUMBER = "+15551230062";
const PAUSE_S = 2;

describe("a SIP call whose document starts with a <Pause>", () => {
  it("rings through the pause, then is answered and runs the rest", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.pause({ length: PAUSE_S });
        r.say("Thanks for waiting");
        r.hangup();
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    const caller = sipp(gw.sipPort, "short.xml", { to: NUMBER, keys: { rtpport: phone.port }, timeoutS: 30 });
    await app.waitFor((r) => r.path === "/voice");
    const askedAt = performance.now();
    // The gateway's stream starts at the answer: its first packet comes after the pause.
    await phone.waitForPackets(1, 20_000);
    expect(performance.now() - askedAt).toBeGreaterThan((PAUSE_S - 0.5) * 1000);
    const result = await bounded(caller, "the caller's end", 30_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // The Say was heard: seconds of audio after the answer, ended by the Hangup's BYE.
    expect(phone.packets.length).toBeGreaterThan(50);
  });
});
