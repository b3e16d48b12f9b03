// A SIP caller's <Dial> to a party on the simulated network (no SIP leg, no audio of its own): the
// bridge lasts until someone ends it, as it does for a simulated caller. The gateway holds no call for
// that leg, and asking it to relay one ended the bridge at once (DialCallDuration 0).
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

const NUMBER = "+15551230031";
/** Not a number switchboard hosts, and the SIP caller has no script: it answers after 5 s. */
const SIMULATED = "+15559990031";

describe("a SIP caller's <Dial> to the simulated network", () => {
  it("stays bridged until the caller hangs up, and the action counts the talk", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.dial({ action: "/dialed", timeout: 10 }).number(SIMULATED);
        return { body: r.toString() };
      },
      "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    // The caller hangs up 8 s after its answer: 5 s of ringing, then 3 s bridged.
    const result = await sipp(gw.sipPort, "caller-stays.xml", { to: NUMBER, keys: { rtpport: phone.port } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const dialed = await app.waitFor((r) => r.path === "/dialed");
    expect(dialed.params).toMatchObject({
      DialCallStatus: "completed",
      DialBridged: "true",
      CallStatus: "completed",
    });
    expect(Number(dialed.params.DialCallDuration)).toBeGreaterThanOrEqual(2);
  });
});
