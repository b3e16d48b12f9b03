// Fifty SIP calls from sipp at ten a second, all answered, played and hung up by the gateway.
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { buckets } from "../../src/protocol/subjects.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { sipp, startGateway } from "./harness.js";

const CALLS = 50;

describe("many SIP calls at once", () => {
  it(`completes ${CALLS} concurrent calls placed at 10 a second`, { timeout: 90_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hello there");
        // Long enough that all fifty are live at once (placing them takes 5 s).
        r.pause({ length: 5 });
        r.hangup();
        return { body: r.toString() };
      },
      "/status": () => ({ body: "" }),
    });
    await engine.addNumber({
      number: "+15551230007",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    await using gw = await startGateway(engine);
    let peak = 0;
    gw.onCall = () => {
      peak = Math.max(peak, gw.calls.size);
    };
    const started = Date.now();
    const result = await sipp(gw.sipPort, "short.xml", {
      to: "+15551230007",
      args: ["-r", "10", "-m", String(CALLS), "-l", String(CALLS)],
      timeoutS: 60,
    });
    expect(result.code, result.stdout.slice(-3000) + result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    // Each call makes two requests: its voice URL and its completed status callback.
    await app.waitForRequests(CALLS * 2, 20_000);
    const done = app.requests.filter((r) => r.path === "/status");
    expect(new Set(done.map((r) => r.params.CallSid)).size).toBe(CALLS);
    expect(done.every((r) => r.params.CallStatus === "completed")).toBe(true);
    const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
    for (const r of done) {
      expect((await calls.get(r.params.CallSid ?? ""))?.json<CallResource>().status).toBe("completed");
    }
    expect(gw.calls.size).toBe(0);
    // The gateway carried (nearly) all of them at the same time, each with its own RTP stream.
    expect(peak).toBeGreaterThanOrEqual(CALLS - 5);
  });
});
