// Twilio's maximum call duration (4 hours, 32015): the host keeps it with a timer on the call's clock,
// so at time-scale 0 a call that would last five hours ends at four without any real wait.
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

describe("the maximum call duration", () => {
  it("ends a five-hour call at four hours with 32015 on the record and a notification", async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        for (let hour = 0; hour < 5; hour++) r.pause({ length: 3600 });
        r.say("never reached");
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: "+15556660001", voiceUrl: `${app.url}/voice` });

    const { call, callSid } = await engine.call({ to: "+15556660001" });

    // A leading Pause delays the answer (as on Twilio), so the call was never answered: no duration.
    expect(call).toMatchObject({ status: "no-answer", duration: null });
    const seconds = (Date.parse(call.end_time ?? "") - Date.parse(call.start_time ?? "")) / 1000;
    expect(seconds).toBe(4 * 3600);
    expect((await engine.notifications(callSid)).map((n) => n.error_code)).toContain("32015");
  });
});
