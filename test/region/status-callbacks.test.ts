// The number's StatusCallback when a call ends, signed like every other request, and a failing
// callback recorded as a 15003 warning without touching the call.
import { createHmac } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { streams, subjects } from "../../src/protocol/subjects.js";
import { StatusCallbacks } from "../../src/region/outbox/status-callbacks.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const hello = () => {
  const r = new VoiceResponse();
  r.say("Hello");
  r.pause({ length: 3 });
  return { body: r.toString() };
};

describe("status callbacks", () => {
  it("requests the number's StatusCallback once the call is stored, with Twilio's progress parameters", async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": hello,
      "/status": () => ({ status: 204, body: "" }),
    });
    await engine.addNumber({
      number: "+15551230001",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    const placed = await engine.call({ to: "+15551230001" });
    const [, status] = await app.waitForRequests(2);
    expect(status).toMatchObject({ path: "/status", method: "POST", signatureValid: true });
    expect(status?.params).toMatchObject({
      CallSid: placed.callSid,
      AccountSid: engine.accountSid,
      CallStatus: "completed",
      Direction: "inbound",
      CallbackSource: "call-progress-events",
      SequenceNumber: "0",
      CallDuration: placed.call.duration,
      Duration: "1",
      Timestamp: placed.call.end_time,
    });
    expect(Number(placed.call.duration)).toBeGreaterThanOrEqual(3);
    expect(await engine.notifications(placed.callSid)).toEqual([]);
  });

  it("records a failing callback as a 15003 warning and leaves the call as it was", async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": hello,
      // Slow to fail: the worker is asked to stop while the request is in flight, and must still
      // store the warning (written after the answer) before it is done.
      "/status": () =>
        new Promise((resolve) => setTimeout(() => resolve({ status: 500, body: "down" }), 200)),
    });
    await engine.addNumber({
      number: "+15551230002",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    const placed = await engine.call({ to: "+15551230002" });
    expect(placed.call.status).toBe("completed");
    // The callback goes out after the call is stored: wait for the warning to be stored too.
    await app.waitForRequests(2);
    await engine.worker?.stop();
    const notes = await engine.notifications(placed.callSid);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ error_code: "15003", log: "1", request_url: `${app.url}/status` });
  });
});

describe("signing with a shared key", () => {
  it("signs with HMAC-SHA256 and announces it in X-Twilio-Webhooks-Signature-Settings", async () => {
    const key = {
      sid: `KS${"1".repeat(32)}`,
      secret: "a-shared-secret-for-webhooks",
      algorithm: "HMAC_SHA256" as const,
    };
    await using engine = await startTestEngine({ signingKey: key });
    await using app = await startTwilioApp(key.secret, { "/voice": hello });
    await engine.addNumber({ number: "+15551230003", voiceUrl: `${app.url}/voice` });
    await engine.call({ to: "+15551230003" });
    const [req] = app.requests;
    expect(req?.headers["x-twilio-webhooks-signature-settings"]).toBe(`key=${key.sid},algorithm=HMAC_SHA256`);
    // The signed string is Twilio's usual one: the URL, then each sorted parameter's name and value.
    const data =
      `${app.url}/voice` +
      Object.keys(req?.params ?? {})
        .sort()
        .map((k) => k + req?.params[k])
        .join("");
    expect(req?.headers["x-twilio-signature"]).toBe(
      createHmac("sha256", key.secret).update(data).digest("base64"),
    );
    // HMAC-SHA1 validators (twilio.validateRequest) must not accept it as a SHA1 signature.
    expect(req?.signatureValid).toBe(false);
  });
});

describe("the callback outbox", () => {
  it("keys a call's final callback apart from its progress callbacks: a shared SequenceNumber drops neither", async () => {
    // No worker: nothing sends (and acks) what is queued, so the stream shows what it kept.
    await using engine = await startTestEngine({ worker: false });
    const outbox = new StatusCallbacks({
      js: jetstream(engine.nc),
      subjects: subjects(),
      region: "us1",
    } as unknown as ConstructorParameters<typeof StatusCallbacks>[0]);
    const facts = {
      callSid: "CA00000000000000000000000000000042",
      accountSid: engine.accountSid,
      to: "+15559870001",
      from: "+15551230001",
      region: "us1",
      edge: "ashburn",
      direction: "outbound-api" as const,
      apiVersion: "2010-04-01",
      phoneNumberSid: null,
    };
    const target = { facts, url: "https://app.example/status", method: "POST" as const };
    // A ringing callback sent as SequenceNumber 1; a resume that did not learn of it numbers the final one 1 too.
    await outbox.queue({ ...target, params: { CallStatus: "ringing", SequenceNumber: "1" }, key: "1" });
    const final = { ...target, event: { callStatus: "busy" as const, sequenceNumber: 1, at: Date.now() } };
    await outbox.queue(final);
    await outbox.queue(final); // queued again by a resumed call: still one
    const info = await (await jetstreamManager(engine.nc)).streams.info(streams.callbacks("us1"));
    expect(info.state.messages).toBe(2);
  });
});
