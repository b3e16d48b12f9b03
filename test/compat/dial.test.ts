// <Dial> through a real engine: a nats-server, a region worker, an edge, and a webhook app that
// checks every signature with the official `twilio` package. Dialed parties switchboard does not
// host are played by the caller's script (`callees`); a hosted number is a real inbound call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress } from "../../src/caller/place-call.js";
import { readCall } from "../../src/caller/place-call.js";
import type { CallerScript } from "../../src/model/offer.js";
import type { CallResource } from "../../src/model/records.js";
import type { ChannelOut } from "../../src/region/channel-events.js";
import { callIndexFilter, openCallIndex } from "../../src/store/call-index.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import {
  type ReceivedRequest,
  startTwilioApp,
  type TwilioApp,
  VoiceResponse,
} from "../helpers/twilio-app.js";

const NUMBER = "+15551237000";
const HOSTED = "+15551237001";
const HOSTED_BUSY = "+15551237002";
const CALLER = "+15557654321";
const OUTSIDE = "+15559990001";
const OUTSIDE_2 = "+15559990002";

let engine: TestEngine;
let app: TwilioApp;
/** The TwiML the number answers with, set by each test before it calls. */
let voice: () => string;

beforeAll(async () => {
  engine = await startTestEngine();
  const twiml = (build: (r: InstanceType<typeof VoiceResponse>) => void) => () => {
    const r = new VoiceResponse();
    build(r);
    return { body: r.toString() };
  };
  app = await startTwilioApp(engine.authToken, {
    "/voice": () => ({ body: voice() }),
    "/after": twiml((r) => r.say("after the dial")),
    "/leg": () => ({ status: 204, body: "" }),
    "/whisper": twiml((r) => r.say("You have a call from the test app")),
    "/whisper-declined": twiml((r) => {
      r.say("Press nothing");
      r.hangup();
    }),
    "/whisper-gather": twiml((r) =>
      r.gather({ numDigits: 1, action: "/whisper-choice" }).say("Press 1 to accept"),
    ),
    "/whisper-choice": (req) => {
      const r = new VoiceResponse();
      if (req.params.Digits !== "1") r.hangup();
      return { body: r.toString() };
    },
    "/whisper-dial": twiml((r) => {
      r.dial("+15550000000");
      r.say("Dialing is not allowed here");
    }),
    "/hosted-busy": twiml((r) => r.reject({ reason: "busy" })),
    "/hosted": twiml((r) => {
      r.say("This is the hosted number's own app");
      r.pause({ length: 4 });
    }),
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
  await engine.addNumber({ number: HOSTED, voiceUrl: `${app.url}/hosted` });
  await engine.addNumber({ number: HOSTED_BUSY, voiceUrl: `${app.url}/hosted-busy` });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** Places a call to NUMBER, whose app answers with `xml`, and collects what the call did. */
async function dialCall(xml: (r: InstanceType<typeof VoiceResponse>) => void, caller: CallerScript = {}) {
  voice = () => {
    const r = new VoiceResponse();
    xml(r);
    return r.toString();
  };
  const out: ChannelOut[] = [];
  const placed = await engine.call({
    to: NUMBER,
    from: CALLER,
    caller: { timeScale: 0, ...caller },
    onProgress: (p: CallProgress) => {
      if (p.source === "channel") out.push(p.event);
    },
  });
  const requests = app.requests.filter((r) => r.params.CallSid === placed.callSid);
  const action = requests.find((r) => r.path === "/after");
  return { ...placed, out, requests, action };
}

const record = (sid: string): Promise<CallResource> => readCall(engine.nc, "us1", sid);

/** The child legs the Calls list shows for a parent (the index the REST API reads). */
async function childSids(parentCallSid: string): Promise<string[]> {
  const kv = await openCallIndex(engine.nc, "us1");
  const keys: string[] = [];
  for await (const key of await kv.keys(callIndexFilter({ accountSid: engine.accountSid, parentCallSid })))
    keys.push(key);
  return keys.map((k) => k.split(".")[3] ?? "").sort();
}

describe("<Dial> to parties on the simulated network", () => {
  it("bridges an answering callee and requests the action with Twilio's Dial parameters", async () => {
    const { callSid, call, action, out } = await dialCall((r) => r.dial({ action: "/after" }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 3, talk: 20 } },
    });
    expect(action?.signatureValid).toBe(true);
    expect(action?.params).toMatchObject({
      CallSid: callSid,
      CallStatus: "in-progress",
      Direction: "inbound",
      DialCallStatus: "completed",
      DialCallDuration: "20",
      DialBridged: "true",
    });
    const childSid = action?.params.DialCallSid ?? "";
    expect(childSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(childSid).not.toBe(callSid);
    expect(out).toContainEqual({ kind: "dial", callSid: childSid, to: OUTSIDE });
    const child = await record(childSid);
    expect(child).toMatchObject({
      sid: childSid,
      parent_call_sid: callSid,
      direction: "outbound-dial",
      from: CALLER,
      to: OUTSIDE,
      status: "completed",
      duration: "20",
      account_sid: engine.accountSid,
    });
    expect(Date.parse(child.end_time ?? "") - Date.parse(child.start_time ?? "")).toBe(23_000);
    // The parent rang 3 s and talked 20 s before the action's Say.
    expect(Number(call.duration)).toBeGreaterThanOrEqual(23);
    expect(await childSids(callSid)).toEqual([childSid]);
  });

  it.each([
    ["busy", { outcome: "busy" as const }, 1],
    ["no-answer", { outcome: "no-answer" as const }, 10],
    ["failed", { outcome: "failed" as const }, 0],
    // Ringing longer than the Dial's timeout is no-answer too.
    ["no-answer", { outcome: "answer" as const, answerAfter: 15 }, 10],
  ])("reports %s to the action, with no bridge", async (status, callee, rangS) => {
    const { callSid, action } = await dialCall((r) => r.dial({ action: "/after", timeout: 10 }, OUTSIDE), {
      callees: { [OUTSIDE]: callee },
    });
    expect(action?.params).toMatchObject({
      DialCallStatus: status,
      DialCallDuration: "0",
      DialBridged: "false",
    });
    const child = await record(action?.params.DialCallSid ?? "");
    expect(child).toMatchObject({
      status,
      parent_call_sid: callSid,
      direction: "outbound-dial",
      duration: null,
    });
    expect(Date.parse(child.end_time ?? "") - Date.parse(child.start_time ?? "")).toBe(rangS * 1000);
  });

  it("rings parallel nouns; the first to answer wins and the others end canceled", async () => {
    const { callSid, action } = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after" });
        d.number(OUTSIDE);
        d.number(OUTSIDE_2);
        d.sip("sip:bob@example.com");
        d.client("alice");
      },
      {
        callees: {
          [OUTSIDE]: { outcome: "answer", answerAfter: 8 },
          [OUTSIDE_2]: { outcome: "answer", answerAfter: 3, talk: 5 },
          "sip:bob@example.com": { outcome: "no-answer" },
          "client:alice": { outcome: "busy", answerAfter: 1 },
        },
      },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialCallDuration: "5" });
    const children = await Promise.all((await childSids(callSid)).map(record));
    const byTo = Object.fromEntries(children.map((c) => [c.to, c]));
    expect(byTo[OUTSIDE_2]?.sid).toBe(action?.params.DialCallSid);
    expect(Object.fromEntries(children.map((c) => [c.to, c.status]))).toEqual({
      [OUTSIDE]: "canceled",
      [OUTSIDE_2]: "completed",
      "sip:bob@example.com": "canceled",
      "client:alice": "busy",
    });
  });

  it("without an action, goes on to the next verb once the callee hangs up", async () => {
    const { requests, out, call } = await dialCall(
      (r) => {
        r.dial(OUTSIDE);
        r.say("still here");
      },
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 2 } } },
    );
    expect(requests.map((r) => r.path)).toEqual(["/voice"]);
    const kinds = out.map((e) => (e.kind === "say" ? `say:${e.text}` : e.kind));
    expect(kinds.slice(kinds.indexOf("dial"))).toEqual(["dial", "say:still here", "hangup", "ended"]);
    expect(call.status).toBe("completed");
  });

  it("sends the child leg's status callbacks with its own CallSid and ParentCallSid", async () => {
    const { callSid, action } = await dialCall(
      (r) =>
        r.dial({ action: "/after" }).number(
          {
            statusCallback: "/leg",
            statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
          },
          OUTSIDE,
        ),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 2, talk: 4 } } },
    );
    const childSid = action?.params.DialCallSid ?? "";
    await app.waitFor(
      (r) => r.path === "/leg" && r.params.CallSid === childSid && r.params.CallStatus === "completed",
    );
    const events = app.requests.filter((r) => r.path === "/leg" && r.params.CallSid === childSid);
    expect(events.every((r) => r.signatureValid)).toBe(true);
    const ordered = [...events].sort(
      (a, b) => Number(a.params.SequenceNumber) - Number(b.params.SequenceNumber),
    );
    expect(ordered.map((r) => r.params.CallStatus)).toEqual([
      "initiated",
      "ringing",
      "in-progress",
      "completed",
    ]);
    expect(ordered[3]?.params).toMatchObject({
      ParentCallSid: callSid,
      Direction: "outbound-dial",
      From: CALLER,
      To: OUTSIDE,
      CallDuration: "4",
      CallbackSource: "call-progress-events",
    });
  });

  it("ends the bridge at timeLimit", async () => {
    const { action } = await dialCall((r) => r.dial({ action: "/after", timeLimit: 7 }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 60 } },
    });
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialCallDuration: "7" });
    expect((await record(action?.params.DialCallSid ?? "")).duration).toBe("7");
  });

  it("hangupOnStar: the caller's * ends the bridge and the call goes on to the action", async () => {
    const { action } = await dialCall((r) => r.dial({ action: "/after", hangupOnStar: true }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 60 } },
      starAfter: [4],
    });
    expect(action?.params).toMatchObject({
      DialCallStatus: "completed",
      DialCallDuration: "4",
      DialBridged: "true",
    });
  });

  it("ignores * without hangupOnStar", async () => {
    const { action } = await dialCall((r) => r.dial({ action: "/after" }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 9 } },
      starAfter: [4],
    });
    expect(action?.params).toMatchObject({ DialCallDuration: "9" });
  });

  it("a caller who hangs up ends the bridge: the leg completes and no action is requested", async () => {
    const { callSid, call, requests, out } = await dialCall(
      (r) =>
        r
          .dial({ action: "/after" })
          .number({ statusCallback: "/leg", statusCallbackEvent: ["completed"] }, OUTSIDE),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 2, talk: 60 } }, hangupAfter: 10 },
    );
    expect(requests.map((r) => r.path)).toEqual(["/voice"]);
    expect(call.status).toBe("completed");
    const dialed = out.find((e): e is Extract<ChannelOut, { kind: "dial" }> => e.kind === "dial");
    const done = await app.waitFor(
      (r) => r.path === "/leg" && r.params.CallSid === dialed?.callSid && r.params.CallStatus === "completed",
    );
    expect(done.params).toMatchObject({ ParentCallSid: callSid, CallDuration: "8" });
    expect(await record(dialed?.callSid ?? "")).toMatchObject({ status: "completed", duration: "8" });
  });
  it("a caller who hangs up while the legs ring cancels them all", async () => {
    const { callSid, call, requests } = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after", timeout: 60 });
        d.number({ statusCallback: "/leg" }, OUTSIDE);
        d.number({ statusCallback: "/leg" }, OUTSIDE_2);
      },
      {
        callees: { [OUTSIDE]: { outcome: "no-answer" }, [OUTSIDE_2]: { outcome: "answer", answerAfter: 20 } },
        hangupAfter: 3,
      },
    );
    expect(requests.map((r) => r.path)).toEqual(["/voice"]);
    expect(call.status).toBe("completed");
    const done = await Promise.all(
      [OUTSIDE, OUTSIDE_2].map((to) =>
        app.waitFor((r) => r.path === "/leg" && r.params.ParentCallSid === callSid && r.params.To === to),
      ),
    );
    expect(done.map((r) => r.params.CallStatus)).toEqual(["canceled", "canceled"]);
    const legs = await Promise.all(done.map((r) => record(r.params.CallSid ?? "")));
    expect(legs.map((l) => [l.status, l.duration])).toEqual([
      ["canceled", null],
      ["canceled", null],
    ]);
  });
});

describe("<Number url> whisper", () => {
  const whisperRequests = (childSid: string, path: string) =>
    app.requests.filter((r: ReceivedRequest) => r.path === path && r.params.CallSid === childSid);

  it("plays to the callee after it answers, then bridges", async () => {
    const { action } = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper" }, OUTSIDE),
      {
        callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 10 } },
      },
    );
    const childSid = action?.params.DialCallSid ?? "";
    const [whisper] = whisperRequests(childSid, "/whisper");
    expect(whisper?.signatureValid).toBe(true);
    expect(whisper?.params).toMatchObject({
      Direction: "outbound-dial",
      CallStatus: "in-progress",
      To: OUTSIDE,
    });
    expect(whisper?.params.ParentCallSid).toBe(action?.params.CallSid);
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
  });

  it("a <Hangup> in the whisper declines the call: no-answer, not bridged", async () => {
    const { action } = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper-declined" }, OUTSIDE),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1 } } },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "no-answer", DialBridged: "false" });
    expect(whisperRequests(action?.params.DialCallSid ?? "", "/whisper-declined")).toHaveLength(1);
  });

  it("the callee's keys answer a whisper <Gather>", async () => {
    const accepted = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper-gather" }, OUTSIDE),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 3, digits: "1" } } },
    );
    expect(accepted.action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    const [choice] = whisperRequests(accepted.action?.params.DialCallSid ?? "", "/whisper-choice");
    expect(choice?.params.Digits).toBe("1");

    const declined = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper-gather" }, OUTSIDE),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, digits: "2" } } },
    );
    expect(declined.action?.params).toMatchObject({ DialCallStatus: "no-answer", DialBridged: "false" });
  });
  it("skips a <Dial> in the whisper with 13201 and plays the rest", async () => {
    const { action } = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper-dial" }, OUTSIDE),
      {
        callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 2 } },
      },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    const notes = await engine.notifications(action?.params.DialCallSid ?? "");
    expect(notes.map((n) => n.error_code)).toEqual(["13201"]);
  });
});

describe("<Dial> to a number switchboard hosts", () => {
  it("is a real inbound call to that number's app; the bridge lasts until that call ends", async () => {
    const { callSid, action } = await dialCall((r) =>
      r.dial({ action: "/after", callerId: "+15550001234" }, HOSTED),
    );
    const hosted = app.requests.find((r) => r.path === "/hosted" && r.params.From === "+15550001234");
    expect(hosted?.signatureValid).toBe(true);
    expect(hosted?.params).toMatchObject({ To: HOSTED, Direction: "inbound" });
    const inboundSid = hosted?.params.CallSid ?? "";
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    // DialCallSid is the parent's outbound-dial leg; the hosted number's call is its own inbound call.
    const legSid = action?.params.DialCallSid ?? "";
    expect(legSid).not.toBe(inboundSid);
    expect(await record(legSid)).toMatchObject({
      parent_call_sid: callSid,
      direction: "outbound-dial",
      to: HOSTED,
      from: "+15550001234",
      status: "completed",
    });
    const inbound = await record(inboundSid);
    expect(inbound).toMatchObject({ direction: "inbound", status: "completed", to: HOSTED });
    expect(action?.params.DialCallDuration).toBe(inbound.duration);
  });

  it("takes the status of a hosted call that ends unanswered (its app <Reject>s as busy)", async () => {
    const { callSid, action } = await dialCall((r) => r.dial({ action: "/after" }, HOSTED_BUSY));
    expect(action?.params).toMatchObject({
      DialCallStatus: "busy",
      DialBridged: "false",
      DialCallDuration: "0",
    });
    expect(await record(action?.params.DialCallSid ?? "")).toMatchObject({
      status: "busy",
      parent_call_sid: callSid,
      to: HOSTED_BUSY,
    });
  });
});
