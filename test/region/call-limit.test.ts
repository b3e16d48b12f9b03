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

    // The first Pause delays the answer by its hour (as on Twilio); the four after it are heard.
    expect(call).toMatchObject({ status: "completed", error_code: 32015 });
    const seconds = (Date.parse(call.end_time ?? "") - Date.parse(call.start_time ?? "")) / 1000;
    expect(seconds).toBe(4 * 3600);
    expect((await engine.notifications(callSid)).map((n) => n.error_code)).toContain("32015");
  });
});
