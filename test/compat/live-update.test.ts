import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import { newSid } from "../../src/model/sid.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { offerCall } from "../../src/protocol/offer.js";
import { subjects } from "../../src/protocol/subjects.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { pausedCall } from "../helpers/live-call.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const LONG = "+15551238300";
const DIALS = "+15551238301";
const OUTSIDE = "+15559990301";
const BRIDGES = "+15551238302";
const AGENT = "+15559990302";

let engine: TestEngine;
let api: Api;
let app: TwilioApp;
let client: ReturnType<typeof twilioClient>["client"];

const twiml = (build: (r: InstanceType<typeof VoiceResponse>) => void) => () => {
  const r = new VoiceResponse();
  build(r);
  return { body: r.toString() };
};

beforeAll(async () => {
  engine = await startTestEngine({ shippedUsers: true });
  api = await startApi({ nc: await engine.connectAs("api"), port: 0, log: pino({ level: "silent" }) });
  app = await startTwilioApp(engine.authToken, {
    "/long": twiml((r) => r.pause({ length: 600 })),
    "/next": twiml((r) => r.say("redirected by the REST update")),
    // A minute of simulated time first: at time-scale 0 the call's clock is then a minute ahead.
    "/bridges": twiml((r) => r.dial({ action: "/bridge-over" }, AGENT)),
    "/bridge-over": twiml((r) => r.say("the agent left")),
    "/dials": twiml((r) => {
      r.pause({ length: 60 });
      r.dial({ action: "/next" }, OUTSIDE);
    }),
  });
  await engine.addNumber({ number: LONG, voiceUrl: `${app.url}/long` });
  await engine.addNumber({ number: DIALS, voiceUrl: `${app.url}/dials` });
  await engine.addNumber({ number: BRIDGES, voiceUrl: `${app.url}/bridges` });
  ({ client } = twilioClient(api.url, { sid: engine.accountSid, token: engine.authToken }));
}, 60_000);

afterAll(async () => {
  await api?.close();
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** A real-time call to LONG, resolved once its 10-minute <Pause> has begun (the call is answered). */
const liveCall = () => pausedCall(engine.nc, LONG);

describe("a live call's update with Twiml", () => {
  it("follows an absolute <Redirect>", async () => {
    const live = await liveCall();
    const r = new VoiceResponse();
    r.redirect(`${app.url}/next`);
    await client.calls(live.callSid).update({ twiml: r.toString() });
    const next = await app.waitFor((q) => q.path === "/next" && q.params.CallSid === live.callSid, 10_000);
    expect(next.signatureValid).toBe(true);
    await live.ended;
    expect(live.events).toContainEqual(
      expect.objectContaining({ kind: "say", text: "redirected by the REST update" }),
    );
    expect((await engine.notifications(live.callSid)).map((n) => n.error_code)).not.toContain("11100");
  });

  it("reports a relative <Redirect> as 11100, saying a Twiml document has no URL to resolve it against", async () => {
    const live = await liveCall();
    const r = new VoiceResponse();
    r.redirect("/next");
    await client.calls(live.callSid).update({ twiml: r.toString() });
    await live.ended;
    const notes = await engine.notifications(live.callSid);
    const note = notes.find((n) => n.error_code === "11100");
    expect(note?.message_text).toMatch(/no URL for a relative one to resolve against; give an absolute URL/);
  });
});

describe("a live call's update with both Url and Twiml", () => {
  it("fetches the Url, runs none of the Twiml, and warns 32019 as Twilio does", async () => {
    const live = await liveCall();
    const ignored = new VoiceResponse();
    ignored.say("from the Twiml parameter");
    // Longer than a Twiml may be (32018): with a Url beside it, it is not run, so not refused.
    ignored.say("x".repeat(4_000));
    await client.calls(live.callSid).update({ url: `${app.url}/next`, twiml: ignored.toString() });
    const next = await app.waitFor((q) => q.path === "/next" && q.params.CallSid === live.callSid, 10_000);
    expect(next.signatureValid).toBe(true);
    await live.ended;
    expect(live.events).toContainEqual(
      expect.objectContaining({ kind: "say", text: "redirected by the REST update" }),
    );
    expect(live.events).not.toContainEqual(
      expect.objectContaining({ kind: "say", text: "from the Twiml parameter" }),
    );
    const notes = await engine.notifications(live.callSid);
    const note = notes.find((n) => n.error_code === "32019");
    expect(note?.log).toBe("1"); // a warning
    expect(note?.message_text).toContain("Twiml and Voice URL are both set. Using Voice URL.");
  });
});

describe("a live <Dial> leg's update", () => {
  /** A real-time call bridged to AGENT (who would talk for 10 minutes); resolves with the leg's sid. */
  async function bridgedCall() {
    const callSid = newSid("CA");
    const events: ChannelOut[] = [];
    let legSid!: (sid: string) => void;
    const bridged = new Promise<string>((resolve) => {
      legSid = resolve;
    });
    const sub = engine.nc.subscribe(subjects().callOut("us1", callSid), {
      callback: (err, msg) => {
        if (err) return;
        const event = decode(msg.data) as ChannelOut;
        events.push(event);
        if (event.kind === "dial") legSid(event.callSid);
      },
    });
    await engine.nc.flush();
    await offerCall(engine.nc, "ashburn", {
      to: BRIDGES,
      from: "+15557654321",
      callSid,
      caller: { timeScale: 1, callees: { [AGENT]: { outcome: "answer", answerAfter: 0, talk: 600 } } },
    });
    return { callSid, leg: await bridged, events, stop: () => sub.unsubscribe() };
  }

  it("hangs the leg up with Status=completed: the Dial's action follows with DialCallStatus=completed", async () => {
    const call = await bridgedCall();
    try {
      // Listed as its parent's child while it talks, as Twilio lists a live leg.
      const children = await client.calls.list({ parentCallSid: call.callSid });
      expect(children.map((c) => [c.sid, c.status])).toEqual([[call.leg, "in-progress"]]);
      const leg = await client.calls(call.leg).update({ status: "completed" });
      expect(leg).toMatchObject({ sid: call.leg, parentCallSid: call.callSid, status: "completed" });
      const after = await app.waitFor(
        (q) => q.path === "/bridge-over" && q.params.CallSid === call.callSid,
        10_000,
      );
      expect(after.params).toMatchObject({ DialCallSid: call.leg, DialCallStatus: "completed" });
      expect((await client.calls(call.leg).fetch()).status).toBe("completed");
    } finally {
      call.stop();
    }
  });

  it("refuses new TwiML for the leg with 20422, naming its parent, and leaves the bridge up", async () => {
    const call = await bridgedCall();
    try {
      const refused = await client
        .calls(call.leg)
        .update({ twiml: "<Response><Hangup/></Response>" })
        .catch((e) => e);
      expect(refused).toMatchObject({ status: 400, code: 20422 });
      expect(String(refused.message)).toContain(call.callSid);
      expect((await client.calls(call.leg).fetch()).status).toBe("in-progress");
      await client.calls(call.callSid).update({ status: "completed" });
    } finally {
      call.stop();
    }
  });
});

describe("the Calls list's dates", () => {
  it("refuses a StartTime that is not a calendar day with 20422", async () => {
    const auth = `Basic ${Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64")}`;
    for (const bad of ["2026-02-31", "2026-04-31T10:00:00Z", "Mon, 30 Feb 2026 10:00:00 +0000"]) {
      const res = await request(
        `${api.url}/2010-04-01/Accounts/${engine.accountSid}/Calls.json?StartTime%3E=${encodeURIComponent(bad)}`,
        { headers: { authorization: auth } },
      );
      expect(res.statusCode, bad).toBe(400);
      expect(await res.body.json(), bad).toMatchObject({ code: 20422 });
    }
    expect(await client.calls.list({ startTime: new Date("2026-02-28T00:00:00Z") })).toEqual([]);
  });

  it("stores a child leg with wall-clock dates at time-scale 0, so StartTime filters find it", async () => {
    const before = new Date(Math.floor(Date.now() / 1000) * 1000);
    const placed = await engine.call({
      to: DIALS,
      caller: { timeScale: 0, callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 4, talk: 44 } } },
    });
    const action = await app.waitFor((q) => q.path === "/next" && q.params.CallSid === placed.callSid);
    const childSid = action.params.DialCallSid ?? "";
    const after = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    const child = await client.calls(childSid).fetch();
    expect(child.parentCallSid).toBe(placed.callSid);
    expect(child.dateUpdated.getTime()).toBeGreaterThanOrEqual(child.dateCreated.getTime());
    expect(child.startTime.getTime()).toBeLessThanOrEqual(after.getTime());
    // Durations stay the call clock's: 4 s ringing is not in it, 44 s talking is.
    expect(child.duration).toBe("44");
    expect(child.endTime.getTime() - child.startTime.getTime()).toBe(48_000);
    const found = await client.calls.list({
      startTimeAfter: before,
      startTimeBefore: after,
      parentCallSid: placed.callSid,
    });
    expect(found.map((c) => c.sid)).toEqual([childSid]);
  });
});
