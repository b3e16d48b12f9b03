// How a SIP call can end other than by the app's Hangup: the caller's BYE mid-prompt, a CANCEL
// while it rings, and the app's <Reject> (486 busy, 603 rejected) — each as Twilio records it.
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { buckets } from "../../src/protocol/subjects.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

async function storedCall(engine: TestEngine, app: TwilioApp): Promise<CallResource | undefined> {
  const status = await app.waitFor((r) => r.path === "/status");
  const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
  return (await calls.get(status.params.CallSid ?? ""))?.json<CallResource>();
}

describe("SIP calls that end early", () => {
  it("stops the prompt and completes the call when the caller hangs up mid-prompt", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say(
          "This is a long announcement that the caller will not wait to hear to the end, because it goes on and on.",
        );
        r.hangup();
        return { body: r.toString() };
      },
      "/status": () => ({ body: "" }),
    });
    await engine.addNumber({
      number: "+15551230004",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    const result = await sipp(gw.sipPort, "caller-bye.xml", {
      to: "+15551230004",
      keys: { rtpport: phone.port },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const call = await storedCall(engine, app);
    expect(call).toMatchObject({ status: "completed" });
    // sipp hung up 1.5 s in: the call lasted about that, not the announcement's length.
    expect(Number(call?.duration)).toBeLessThanOrEqual(3);
    const sent = phone.packets.length;
    // The stream stopped at the BYE: the gateway has let the call go and sends nothing more.
    expect(gw.calls.size).toBe(0);
    expect(sent).toBeLessThan(150);
  });

  it("answers a CANCEL while ringing with 487 and records the call as no-answer", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    let answer!: () => void;
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    await using app = await startTwilioApp(engine.authToken, {
      // The app is slow: the caller gives up before it answers.
      "/voice": async () => {
        await held;
        return { body: new VoiceResponse().say("Too late").toString() };
      },
      "/status": () => ({ body: "" }),
    });
    await engine.addNumber({
      number: "+15551230005",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    await using gw = await startGateway(engine);
    const result = await sipp(gw.sipPort, "cancel.xml", { to: "+15551230005" });
    answer();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const call = await storedCall(engine, app);
    // Twilio: an inbound call that ends before it is answered is no-answer (it used to be canceled).
    expect(call).toMatchObject({ status: "no-answer" });
    expect(gw.calls.size).toBe(0);
  });

  for (const [reason, code, status] of [
    ["busy", 486, "busy"],
    ["rejected", 603, "no-answer"],
  ] as const) {
    it(`answers <Reject reason="${reason}"> with ${code} and records ${status}`, {
      timeout: 60_000,
    }, async () => {
      await using engine = await startTestEngine();
      await using app = await startTwilioApp(engine.authToken, {
        "/voice": () => ({ body: new VoiceResponse().reject({ reason }).toString() }),
        "/status": () => ({ body: "" }),
      });
      await engine.addNumber({
        number: "+15551230006",
        voiceUrl: `${app.url}/voice`,
        statusCallback: `${app.url}/status`,
      });
      await using gw = await startGateway(engine);
      const result = await sipp(gw.sipPort, `reject-${code}.xml`, { to: "+15551230006" });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(await storedCall(engine, app)).toMatchObject({ status });
    });
  }
});
