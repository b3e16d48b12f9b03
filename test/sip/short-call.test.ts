// A real SIP caller (sipp) on the gateway gives the same call as a simulated caller: the same
// channel events on `.out` and the same state changes for the visualizer, only in real time.
import { describe, expect, it } from "vitest";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

describe("the SIP gateway", () => {
  it("runs a SIP call with the same timeline as a simulated call", { timeout: 60_000 }, async () => {
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
    // Every call's channel events and state changes, by CallSid.
    const out = new Map<string, string[]>();
    const states = new Map<string, string[]>();
    const finished = new Map<string, () => void>();
    const push = (m: Map<string, string[]>, sid: string, v: string) => {
      m.set(sid, [...(m.get(sid) ?? []), v]);
      if (m === states && v === '"completed"') finished.get(sid)?.();
    };
    /** Resolves once the call's last state change (completed) has been seen. */
    const completed = (sid: string) =>
      new Promise<void>((resolve) => {
        if (states.get(sid)?.includes('"completed"')) resolve();
        else finished.set(sid, resolve);
      });
    const outSub = engine.nc.subscribe("sb.region.*.call.*.out", {
      callback: (_, msg) => push(out, msg.subject.split(".")[4] ?? "", (decode(msg.data) as ChannelOut).kind),
    });
    const inspectSub = engine.nc.subscribe("sb.region.*.inspect.*", {
      callback: (_, msg) => {
        for (const e of inspectEnvelopes(msg.data))
          if (e.type === "state") push(states, msg.subject.split(".")[4] ?? "", JSON.stringify(e.value));
      },
    });
    try {
      await using gw = await startGateway(engine);
      await using phone = await phoneRtp();
      const result = await sipp(gw.sipPort, "short.xml", {
        to: "+15551230001",
        keys: { rtpport: phone.port },
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const voice = await app.waitFor((r) => r.path === "/voice");
      expect(voice.params).toMatchObject({
        To: "+15551230001",
        From: "+15557654321",
        "SipHeader_X-Customer-Id": "42",
      });
      const sipSid = voice.params.CallSid ?? "";
      expect(phone.packets.length).toBeGreaterThan(10);

      const simulated = await engine.call({ to: "+15551230001" });
      await Promise.all([completed(sipSid), completed(simulated.callSid)]);
      expect(simulated.call.status).toBe("completed");
      expect(out.get(sipSid)).toEqual(["ringing", "answer", "say", "hangup", "ended"]);
      expect(out.get(sipSid)).toEqual(out.get(simulated.callSid));
      expect(states.get(sipSid)?.length).toBeGreaterThan(4);
      expect(states.get(sipSid)).toEqual(states.get(simulated.callSid));
    } finally {
      outSub.unsubscribe();
      inspectSub.unsubscribe();
    }
  });
});
