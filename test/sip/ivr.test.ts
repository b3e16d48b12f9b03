// The acceptance call: sipp calls a number whose app (twilio's VoiceResponse) does
// Say -> Gather -> Record -> Say -> Hangup, through the real engine (edge, region worker, actor).
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { buckets } from "../../src/protocol/subjects.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway, toneDir } from "./harness.js";

const LONG_PROMPT =
  "Please enter your account code using the keys on your telephone, followed by the pound key. " +
  "If you do not know your code, stay on the line and someone will be with you shortly.";

describe("a SIP call through Say, Gather, Record, Say, Hangup", () => {
  it("carries the caller's keys to the Gather, records the caller, and hangs up with BYE", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Hello");
        // A prompt of some 10 s: the caller's first key (2.5 s after the answer) must cut it short.
        r.gather({ action: "/gathered", finishOnKey: "#", timeout: 10 }).say(LONG_PROMPT);
        return { body: r.toString() };
      },
      "/gathered": () => {
        const r = new VoiceResponse();
        r.record({ action: "/recorded", finishOnKey: "#", timeout: 5, maxLength: 30, playBeep: false });
        return { body: r.toString() };
      },
      "/recorded": () => {
        const r = new VoiceResponse();
        r.say("Goodbye");
        r.hangup();
        return { body: r.toString() };
      },
      "/status": () => ({ body: "" }),
    });
    await engine.addNumber({
      number: "+15551230003",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    await using gw = await startGateway(engine);
    await using phone = await phoneRtp();
    const result = await sipp(gw.sipPort, "ivr.xml", {
      to: "+15551230003",
      keys: { rtpport: phone.port },
      cwd: await toneDir(2),
    });
    // sipp exits 0 only if every message came as scripted, the gateway's BYE last.
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const voice = await app.waitFor((r) => r.path === "/voice");
    expect(voice.params).toMatchObject({
      To: "+15551230003",
      From: "+15557654321",
      "SipHeader_X-Customer-Id": "42",
      SipSourceIp: "127.0.0.2",
    });
    expect(voice.params.SipCallId).toMatch(/@127\.0\.0\.2$/);
    const gathered = await app.waitFor((r) => r.path === "/gathered");
    expect(gathered.params.Digits).toBe("12");
    // Barge-in: the Gather ended on # (≈ 3.3 s after the answer), not after its prompt had played.
    expect(gathered.at - voice.at).toBeLessThan(5_000);

    // What sipp heard: 20 ms μ-law packets, and the prompts in them (not only silence).
    expect(phone.packets.every((p) => p.payloadType === 0 && p.payload.length === 160)).toBe(true);
    const voiced = phone.packets.filter((p) => p.payload.some((b) => b !== 0xff && b !== 0x7f)).length;
    expect(voiced).toBeGreaterThan(40);
    // Paced in real time: one packet per 20 ms over the whole call (a stream of ~10 s), in sequence.
    const span = (phone.arrivals.at(-1) ?? 0) - (phone.arrivals[0] ?? 0);
    expect(span / (phone.packets.length - 1)).toBeGreaterThan(19);
    expect(span / (phone.packets.length - 1)).toBeLessThan(21);
    const seq = phone.packets.map((p) => p.sequence);
    expect(seq.every((n, i) => i === 0 || n === ((seq[i - 1] ?? 0) + 1) % 65536)).toBe(true);

    const status = await app.waitFor((r) => r.path === "/status" && r.params.CallStatus === "completed");
    expect(Number(status.params.CallDuration)).toBeGreaterThanOrEqual(7);
    const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
    const call = (await calls.get(voice.params.CallSid ?? ""))?.json<CallResource>();
    expect(call).toMatchObject({ status: "completed", to: "+15551230003", from: "+15557654321" });

    {
      // The stored recording (object store sb_recordings_us1) holds the 2 s sipp sent, within 100 ms.
      const recorded = await app.waitFor((r) => r.path === "/recorded");
      expect(recorded.params.Digits).toBe("#");
      const store = await new Objm(engine.nc).open(buckets.recordings("us1"));
      const [stored] = await store.list();
      const wav = Buffer.from((await store.getBlob(stored?.name ?? "")) ?? new Uint8Array());
      const ms = (wav.readUInt32LE(40) / wav.readUInt32LE(28)) * 1000;
      expect(Math.abs(ms - 2000)).toBeLessThanOrEqual(100);
    }
  });
});
