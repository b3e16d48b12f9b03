// SIP details a phone relies on: keys sent by SIP INFO, and the 200 re-sent until it is acknowledged.
import { describe, expect, it } from "vitest";
import { infoKey } from "../../src/sip/dialogs.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { sipp, startGateway } from "./harness.js";

describe("SIP signalling", () => {
  it("delivers keys sent by SIP INFO to the Gather", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.gather({ action: "/gathered", timeout: 10 }).say("Enter a key");
        return { body: r.toString() };
      },
      "/gathered": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await engine.addNumber({ number: "+15551230010", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    const result = await sipp(gw.sipPort, "info.xml", { to: "+15551230010" });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((await app.waitFor((r) => r.path === "/gathered")).params.Digits).toBe("7");
  });

  it("sends the 200 again until the caller acknowledges it", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hi");
        r.hangup();
        return { body: r.toString() };
      },
    });
    await engine.addNumber({ number: "+15551230011", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine);
    const result = await sipp(gw.sipPort, "late-ack.xml", { to: "+15551230011" });
    // Exit 0: the BYE came after the ACK (a BYE during the pause would be an unexpected message).
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // sipp's screen: the 200's row counts the copies it received as retransmissions (T1 = 500 ms).
    const retrans = Number(/^\s*200 <-+\s+\d+\s+(\d+)/m.exec(result.stdout)?.[1]);
    expect(retrans).toBeGreaterThanOrEqual(1);
  });

  it("reads INFO bodies of both DTMF types", () => {
    expect(infoKey("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")).toBe("5");
    expect(infoKey("application/dtmf-relay", "Signal= 11\r\n")).toBe("#");
    expect(infoKey("application/dtmf", "*")).toBe("*");
    expect(infoKey("text/plain", "5")).toBeUndefined();
    expect(infoKey("application/dtmf-relay", "Signal=x")).toBeUndefined();
  });
});
