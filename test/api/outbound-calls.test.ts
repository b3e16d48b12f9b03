// Issue #17, outbound calls: `client.calls.create()` from the official `twilio` package against a
// real api, edge, region workers and nats-server. The call is placed in the request's region,
// rings its To (the simulated network, or a number switchboard hosts), runs its TwiML with
// Direction=outbound-api once answered, and sends the status callbacks it asked for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCallerId } from "../../src/admin/caller-ids.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { type Stack, startStack } from "./helpers/stack.js";
import { statusCallbacks } from "./helpers/status-callbacks.js";
import { twilioClient } from "./helpers/twilio-client.js";

const FROM = "+15551241001";
const HOSTED = "+15551241002";
const IE1_FROM = "+353155501003";
const PSTN = "+15559870001";
const BUSY = "+15559870002";
const NO_ANSWER = "+15559870003";

let stack: Stack;
let client: ReturnType<typeof twilioClient>["client"];

beforeAll(async () => {
  stack = await startStack({
    outbound: {
      script: {
        timeScale: 0,
        callees: { [BUSY]: { outcome: "busy" }, [NO_ANSWER]: { outcome: "no-answer" } },
      },
    },
    routes: {
      "/outbound": () => ({ body: new VoiceResponse().say("This is a reminder").toString() }),
      "/status": () => ({ status: 204, body: "" }),
    },
  });
  ({ client } = twilioClient(stack.api.url, stack.account));
  await stack.number(FROM);
  await stack.number(HOSTED);
  await stack.number(IE1_FROM, { region: "ie1" });
}, 60_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const callbacksOf = (callSid: string) => statusCallbacks(stack.app, callSid, 15_000);

describe("POST Calls.json (client.calls.create)", () => {
  it("places the call, runs its TwiML with Direction=outbound-api, and sends every callback asked for", async () => {
    const created = await client.calls.create({
      to: PSTN,
      from: FROM,
      url: `${stack.app.url}/outbound`,
      statusCallback: `${stack.app.url}/status`,
      statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
    });
    expect(created).toMatchObject({
      to: PSTN,
      from: FROM,
      status: "queued",
      direction: "outbound-api",
      accountSid: stack.account.sid,
    });
    const doc = await stack.app.waitFor((r) => r.path === "/outbound" && r.params.CallSid === created.sid);
    expect(doc.signatureValid).toBe(true);
    expect(doc.params).toMatchObject({
      Direction: "outbound-api",
      CallStatus: "in-progress",
      To: PSTN,
      From: FROM,
      AccountSid: stack.account.sid,
      ApiVersion: "2010-04-01",
    });
    const callbacks = await callbacksOf(created.sid);
    expect(callbacks.map((r) => [r.params.SequenceNumber, r.params.CallStatus])).toEqual([
      ["0", "initiated"],
      ["1", "ringing"],
      ["2", "in-progress"],
      ["3", "completed"],
    ]);
    for (const r of callbacks) {
      expect(r.signatureValid).toBe(true);
      expect(r.params).toMatchObject({
        CallbackSource: "call-progress-events",
        Direction: "outbound-api",
        To: PSTN,
        From: FROM,
      });
    }
    expect(Number(callbacks[3]?.params.CallDuration)).toBeGreaterThanOrEqual(1);
    // Only the terminal event says how the call's SIP side ended (200: answered, then hung up).
    expect(callbacks.map((r) => r.params.SipResponseCode)).toEqual([undefined, undefined, undefined, "200"]);
    const fetched = await client.calls(created.sid).fetch();
    expect(fetched).toMatchObject({ status: "completed", direction: "outbound-api", to: PSTN });
  }, 30_000);

  it("places a call in the request's region, whichever region routes its From (as on Twilio)", async () => {
    // Through api.twilio.com (us1), from a number routed to ie1: the call runs and is kept in us1.
    const created = await client.calls.create({
      to: PSTN,
      from: IE1_FROM,
      twiml: "<Response><Say>Hi</Say></Response>",
      statusCallback: `${stack.app.url}/status`,
    });
    const [done] = await callbacksOf(created.sid);
    expect(done?.params).toMatchObject({ CallStatus: "completed", Direction: "outbound-api" });
    const fetchedUs1 = await client.calls(created.sid).fetch();
    expect(fetchedUs1).toMatchObject({ status: "completed", from: IE1_FROM });
    // Its phone_number_sid is the From number's, although us1 holds no config of that number.
    expect(fetchedUs1.phoneNumberSid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(created.phoneNumberSid).toBe(fetchedUs1.phoneNumberSid);
    // Through api.dublin.ie1, from a us1 number: it is ie1's call, and us1 does not know it.
    const path = `/2010-04-01/Accounts/${stack.account.sid}/Calls`;
    const ie1 = { host: "api.dublin.ie1.twilio.com" };
    const made = await stack.rest<{ sid: string }>("POST", `${path}.json`, {
      ...ie1,
      form: { To: PSTN, From: FROM, Twiml: "<Response><Say>Hi</Say></Response>" },
    });
    expect(made.status).toBe(201);
    const fetched = await stack.rest<{ status: string }>("GET", `${path}/${made.body.sid}.json`, ie1);
    expect(fetched).toMatchObject({ status: 200, body: { from: FROM } });
    expect(await stack.rest("GET", `${path}/${made.body.sid}.json`)).toMatchObject({ status: 404 });
  }, 30_000);

  it.each([
    [BUSY, "busy"],
    [NO_ANSWER, "no-answer"],
  ])(
    "ends a call to %s %s without requesting its TwiML",
    async (to, status) => {
      const created = await client.calls.create({
        to,
        from: FROM,
        url: `${stack.app.url}/outbound`,
        statusCallback: `${stack.app.url}/status`,
        timeout: 20,
      });
      const callbacks = await callbacksOf(created.sid);
      expect(callbacks.map((r) => r.params.CallStatus)).toEqual([status]);
      expect(callbacks[0]?.params.SequenceNumber).toBe("0");
      expect(callbacks[0]?.params.SipResponseCode).toBe(status === "busy" ? "486" : "487");
      expect(stack.app.requests.some((r) => r.path === "/outbound" && r.params.CallSid === created.sid)).toBe(
        false,
      );
      expect((await client.calls(created.sid).fetch()).status).toBe(status);
    },
    30_000,
  );

  it("rings a number switchboard hosts: its own app answers an inbound call from the From", async () => {
    const created = await client.calls.create({
      to: HOSTED,
      from: FROM,
      url: `${stack.app.url}/outbound`,
      statusCallback: `${stack.app.url}/status`,
    });
    const inbound = await stack.app.waitFor(
      (r) => r.path === "/voice" && r.params.To === HOSTED && r.params.From === FROM,
      15_000,
    );
    expect(inbound.params.Direction).toBe("inbound");
    const doc = await stack.app.waitFor(
      (r) => r.path === "/outbound" && r.params.CallSid === created.sid,
      15_000,
    );
    expect(doc.params.Direction).toBe("outbound-api");
    // The hosted call's app says its line and hangs up: the outbound call's callee is gone.
    const [done] = await callbacksOf(created.sid);
    expect(done?.params.CallStatus).toBe("completed");
  }, 30_000);

  it("records the call from its answer when Record=true, and tells RecordingStatusCallback", async () => {
    const created = await client.calls.create({
      to: PSTN,
      from: FROM,
      url: `${stack.app.url}/outbound`,
      record: true,
      recordingChannels: "dual",
      recordingStatusCallback: `${stack.app.url}/status`,
    });
    const done = await stack.app.waitFor(
      (r) =>
        r.path === "/status" && r.params.CallSid === created.sid && r.params.RecordingStatus === "completed",
      15_000,
    );
    expect(done.signatureValid).toBe(true);
    expect(done.params).toMatchObject({
      RecordingSource: "OutboundAPI",
      RecordingChannels: "2",
      ErrorCode: "0",
    });
    expect(Number(done.params.RecordingDuration)).toBeGreaterThanOrEqual(1);
    const recordings = await client.calls(created.sid).recordings.list();
    expect(recordings.map((r) => r.sid)).toEqual([done.params.RecordingSid]);
    expect(recordings[0]).toMatchObject({ source: "OutboundAPI", channels: 2, callSid: created.sid });
  }, 30_000);

  it("ends the call completed at its TimeLimit, counted from the answer", async () => {
    const created = await client.calls.create({
      to: PSTN,
      from: FROM,
      twiml: '<Response><Pause length="60"/><Say>never heard</Say></Response>',
      timeLimit: 7,
      statusCallback: `${stack.app.url}/status`,
      statusCallbackEvent: ["initiated", "answered", "completed"],
    });
    const callbacks = await callbacksOf(created.sid);
    const at = (status: string) =>
      Date.parse(callbacks.find((r) => r.params.CallStatus === status)?.params.Timestamp ?? "");
    expect(callbacks.map((r) => r.params.CallStatus)).toEqual(["initiated", "in-progress", "completed"]);
    // Seven seconds after the answer (the call's clock at time-scale 0), not after its 60 s Pause.
    expect(at("completed") - at("in-progress")).toBe(7_000);
    const fetched = await client.calls(created.sid).fetch();
    expect(fetched.status).toBe("completed");
    expect(Number(fetched.duration) * 1000).toBe(at("completed") - at("initiated"));
  }, 30_000);

  it("refuses a From the account does not own with 21210", async () => {
    const err = await client.calls
      .create({ to: PSTN, from: "+15550000000", url: `${stack.app.url}/outbound` })
      .catch((e: unknown) => e as { code: number; status: number });
    expect(err).toMatchObject({ code: 21210, status: 400 });
  });

  it("places a call from a verified caller ID (OutgoingCallerIds) in the request's region", async () => {
    const verified = "+15557770001";
    const first = await client.calls
      .create({ to: PSTN, from: verified, url: `${stack.app.url}/outbound` })
      .catch((e: unknown) => e as { code: number });
    expect(first).toMatchObject({ code: 21210 });
    await addCallerId(stack.global, stack.account.sid, verified);
    const created = await client.calls.create({ to: PSTN, from: verified, url: `${stack.app.url}/outbound` });
    const doc = await stack.app.waitFor((r) => r.path === "/outbound" && r.params.CallSid === created.sid);
    expect(doc.params).toMatchObject({ From: verified, Direction: "outbound-api" });
  }, 30_000);

  it("refuses another account's number as From with 21210", async () => {
    const other = "+15551241009";
    await stack.number(other, { account: stack.other });
    const res = await stack.rest("POST", `/2010-04-01/Accounts/${stack.account.sid}/Calls.json`, {
      form: { To: PSTN, From: other, Url: `${stack.app.url}/outbound` },
    });
    expect(res).toMatchObject({ status: 400, body: { code: 21210 } });
  });

  it("takes SendDigits with A-D, and ignores RecordingChannels without Record=true, as Twilio does", async () => {
    const res = await stack.rest<{ sid: string }>(
      "POST",
      `/2010-04-01/Accounts/${stack.account.sid}/Calls.json`,
      {
        form: {
          To: PSTN,
          From: FROM,
          Twiml: "<Response><Say>Hi</Say></Response>",
          SendDigits: "1A#",
          RecordingChannels: "dual",
          RecordingStatusCallback: `${stack.app.url}/recorded`,
          StatusCallback: `${stack.app.url}/status`,
        },
      },
    );
    expect(res.status).toBe(201);
    const [done] = await callbacksOf(res.body.sid);
    expect(done?.params).toMatchObject({ CallStatus: "completed" });
    const recordings = await client.recordings.list({ callSid: res.body.sid });
    expect(recordings).toEqual([]);
  }, 20_000);

  it("fetches the Url when a Twiml is given too, runs none of the Twiml, and warns 32019 as Twilio does", async () => {
    const ignored = new VoiceResponse();
    // Longer than a Twiml may be (32018): with a Url beside it, it is not run, so not refused.
    ignored.say("x".repeat(4_000));
    const created = await client.calls.create({
      to: PSTN,
      from: FROM,
      url: `${stack.app.url}/outbound`,
      twiml: ignored.toString(),
      statusCallback: `${stack.app.url}/status`,
    });
    const doc = await stack.app.waitFor((r) => r.path === "/outbound" && r.params.CallSid === created.sid);
    expect(doc.signatureValid).toBe(true);
    const [done] = await callbacksOf(created.sid);
    expect(done?.params).toMatchObject({ CallStatus: "completed" });
    const notes = await client.calls(created.sid).notifications.list();
    const note = notes.find((n) => n.errorCode === "32019");
    expect(note?.log).toBe("1"); // a warning
    expect(note?.messageText).toContain("Twiml and Voice URL are both set. Using Voice URL.");
    // Twilio's date filters on a call's notifications (MessageDate>, a day in UTC).
    const later = await client
      .calls(created.sid)
      .notifications.list({ messageDateAfter: new Date(Date.now() + 86_400_000) });
    expect(later).toEqual([]);
    const today = await client.calls(created.sid).notifications.list({ messageDate: new Date() });
    expect(today.map((n) => n.errorCode)).toContain("32019");
  }, 20_000);

  it.each([
    ["no To", { From: FROM, Url: "https://app.example/x" }, 21201],
    ["no From", { To: PSTN, Url: "https://app.example/x" }, 21213],
    ["neither Url nor Twiml", { To: PSTN, From: FROM }, 21205],
    ["a bad To", { To: "12ab", From: FROM, Url: "https://app.example/x" }, 21211],
    ["a relative Url", { To: PSTN, From: FROM, Url: "/x" }, 11100],
    [
      "a Method other than GET or POST",
      { To: PSTN, From: FROM, Url: "https://app.example/x", Method: "PUT" },
      21209,
    ],
    [
      "MachineDetection",
      { To: PSTN, From: FROM, Url: "https://app.example/x", MachineDetection: "Enable" },
      20422,
    ],
    ["a TimeLimit of 0", { To: PSTN, From: FROM, Url: "https://app.example/x", TimeLimit: "0" }, 20422],
    [
      "a TimeLimit that is not whole seconds",
      { To: PSTN, From: FROM, Url: "https://app.example/x", TimeLimit: "2.5" },
      20422,
    ],
    [
      "a SendDigits key that is not DTMF",
      { To: PSTN, From: FROM, Twiml: "<Response/>", SendDigits: "1E" },
      20422,
    ],
    [
      "a RecordingStatusCallbackEvent it does not send",
      {
        To: PSTN,
        From: FROM,
        Url: "https://app.example/x",
        Record: "true",
        RecordingStatusCallbackEvent: "in-progress",
      },
      20422,
    ],
    [
      "an unknown event",
      { To: PSTN, From: FROM, Url: "https://app.example/x", StatusCallbackEvent: "paused" },
      20422,
    ],
    [
      "a Twiml over 4000 characters",
      { To: PSTN, From: FROM, Twiml: `<Response>${" ".repeat(4000)}</Response>` },
      32018,
    ],
  ])("refuses %s with its Twilio code", async (_what, form, code) => {
    const res = await stack.rest("POST", `/2010-04-01/Accounts/${stack.account.sid}/Calls.json`, { form });
    expect(res).toMatchObject({ status: 400, body: { code } });
  });
});
