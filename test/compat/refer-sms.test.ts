// <Refer> and <Sms> on real calls: a real engine, an app written with the twilio package that checks
// every request's signature, and what the call records.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress } from "../../src/caller/place-call.js";
import { AnsweringNumbers } from "../helpers/answering-numbers.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

let engine: TestEngine;
let app: TwilioApp;
const numbers = new AnsweringNumbers("+1555124");

const twiml = (build: (r: InstanceType<typeof VoiceResponse>) => void) => () => {
  const r = new VoiceResponse();
  build(r);
  return { body: r.toString() };
};

beforeAll(async () => {
  engine = await startTestEngine();
  app = await startTwilioApp(engine.authToken, {
    "/voice": numbers.route,
    "/refer-done": twiml((r) => r.say("Transferred.")),
    "/sms-done": twiml((r) => r.say("Text sent.")),
    "/sms-status": () => ({ status: 204, body: "" }),
  });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** A number answering with `build`'s TwiML. */
const numberAnswering = (build: (r: InstanceType<typeof VoiceResponse>) => void) =>
  numbers.add(engine, app.url, build);

async function call(to: string, from?: string) {
  const said: string[] = [];
  const placed = await engine.call({
    to,
    ...(from && { from }),
    onProgress: (p: CallProgress) => {
      if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
    },
  });
  return { ...placed, said };
}

describe("<Refer>", () => {
  const referring = (r: InstanceType<typeof VoiceResponse>) => {
    r.refer({ action: `${app.url}/refer-done` }).sip("sip:desk@pbx.example.com");
    r.say("The transfer did not happen.");
  };

  it("fails with 13801 on a phone call and carries on with the next verb", async () => {
    const to = await numberAnswering(referring);
    const { callSid, said, call: record } = await call(to);
    expect(said).toEqual(["The transfer did not happen."]);
    expect(record.status).toBe("completed");
    const notes = await engine.notifications(callSid);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([["13801", "0"]]);
    expect(app.requests.some((r) => r.path === "/refer-done" && r.params.CallSid === callSid)).toBe(false);
  });

  it("refers a SIP call and requests the action with the REFER's outcome", async () => {
    const to = await numberAnswering(referring);
    const { callSid, said } = await call(to, "sip:alice@client.example.com");
    const done = await app.waitFor((r) => r.path === "/refer-done" && r.params.CallSid === callSid);
    expect(done.signatureValid).toBe(true);
    expect(done.params).toMatchObject({
      From: "sip:alice@client.example.com",
      ReferCallStatus: "in-progress",
      ReferSipResponseCode: "202",
      NotifySipResponseCode: "200",
    });
    expect(said).toEqual(["Transferred."]);
    expect(await engine.notifications(callSid)).toEqual([]);
  });
});

describe("<Sms>", () => {
  it("records the message, requests the action with SmsSid and SmsStatus, and runs its TwiML", async () => {
    const to = await numberAnswering((r) => {
      r.sms({ action: `${app.url}/sms-done`, statusCallback: `${app.url}/sms-status` }, "Your code is 4321");
      r.say("Never reached: the action takes over.");
    });
    const { callSid, said } = await call(to);
    const done = await app.waitFor((r) => r.path === "/sms-done" && r.params.CallSid === callSid);
    expect(done.signatureValid).toBe(true);
    expect(done.params).toMatchObject({
      SmsSid: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      SmsStatus: "sending",
      CallStatus: "in-progress",
      To: to,
    });
    expect(said).toEqual(["Text sent."]);
    const status = await app.waitFor(
      (r) => r.path === "/sms-status" && r.params.SmsSid === done.params.SmsSid,
    );
    expect(status.signatureValid).toBe(true);
    expect(status.params).toEqual({
      SmsSid: done.params.SmsSid,
      SmsStatus: "sent",
      AccountSid: engine.accountSid,
      From: to,
      To: "+15557654321",
      Body: "Your code is 4321",
    });
    const notes = await engine.notifications(callSid);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([["90008", "1"]]);
    expect(notes[0]?.message_text).toContain("Your code is 4321");
  });

  it("goes on to the next verb without an action", async () => {
    const to = await numberAnswering((r) => {
      r.sms({ to: "+15550001111" }, "See you soon");
      r.say("Message sent.");
    });
    const { callSid, said } = await call(to);
    expect(said).toEqual(["Message sent."]);
    const notes = await engine.notifications(callSid);
    expect(notes[0]?.message_text).toContain("to +15550001111: See you soon");
  });
});
