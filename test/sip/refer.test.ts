// <Refer> on a call that came in over SIP: the gateway sends a real REFER to the caller's endpoint
// (sipp), which accepts it and reports the new call in NOTIFYs, or refuses it. The action hears what
// the endpoint said (ReferSipResponseCode, and from the NOTIFYs NotifySipResponseCode and
// ReferCallStatus), and the call goes on as the action's document says.
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

const NUMBER = "+15551230032";

async function referCall(scenario: string) {
  await using engine = await startTestEngine();
  await using app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.refer({ action: "/referred" }).sip("sip:alice@example.com");
      r.say("The transfer did not happen.");
      return { body: r.toString() };
    },
    "/referred": () => ({ body: new VoiceResponse().hangup().toString() }),
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
  await using gw = await startGateway(engine);
  await using phone = await phoneRtp();
  // sipp checks the REFER's Refer-To itself, and ends when the action's <Hangup/> sends the BYE.
  const result = await sipp(gw.sipPort, scenario, { to: NUMBER, keys: { rtpport: phone.port } });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return (await app.waitFor((r) => r.path === "/referred")).params;
}

describe("<Refer> on a SIP call", () => {
  it("sends a REFER the caller accepts, and reports the new call from its NOTIFYs", {
    timeout: 60_000,
  }, async () => {
    const params = await referCall("refer-accept.xml");
    expect(params).toMatchObject({
      ReferSipResponseCode: "202",
      NotifySipResponseCode: "200",
      ReferCallStatus: "in-progress",
      CallStatus: "in-progress",
    });
  });

  it("tells the action a refused REFER's status, with no NOTIFY to report", { timeout: 60_000 }, async () => {
    const params = await referCall("refer-refuse.xml");
    expect(params.ReferSipResponseCode).toBe("405");
    expect(params.NotifySipResponseCode).toBeUndefined();
    expect(params.ReferCallStatus).toBeUndefined();
  });
});
