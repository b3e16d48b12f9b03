// <Dial> through a real engine, to parties switchboard does not host: the caller's script
// (`callees`) says how each answers. Action parameters, parallel nouns, child legs (records, REST
// list, `.out`) and their status callbacks. How bridges end: dial-bridge.test.ts.
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../../src/api/server.js";
import { readWavHeader } from "../../src/media/wav.js";
import type { CallResource } from "../../src/model/records.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { openRecordings } from "../../src/store/region.js";
import { twilioSchemas } from "../api/helpers/oai.js";
import { CALLER, type DialFixture, OUTSIDE, OUTSIDE_2, startDialFixture } from "./dial-fixture.js";

let f: DialFixture;
beforeAll(async () => {
  f = await startDialFixture();
});
afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});
const dialCall: DialFixture["dialCall"] = (xml, caller) => f.dialCall(xml, caller);
const record: DialFixture["record"] = (sid) => f.record(sid);

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
      account_sid: f.engine.accountSid,
    });
    expect(Date.parse(child.end_time ?? "") - Date.parse(child.start_time ?? "")).toBe(23_000);
    // The parent rang 3 s and talked 20 s before the action's Say.
    expect(Number(call.duration)).toBeGreaterThanOrEqual(23);
    expect(await f.childSids(callSid)).toEqual([childSid]);
  });

  it("records the bridge with record=record-from-answer: RecordingUrl on the action, a Recording, its callback", async () => {
    const { callSid, action } = await dialCall(
      (r) =>
        r.dial(
          {
            action: "/after",
            record: "record-from-answer",
            recordingStatusCallback: "/dial-recording",
            recordingStatusCallbackMethod: "GET",
          },
          OUTSIDE,
        ),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 2, talk: 12 } } },
    );
    const recordingSid = action?.params.RecordingSid ?? "";
    expect(recordingSid).toMatch(/^RE[0-9a-f]{32}$/);
    expect(action?.params).toMatchObject({
      DialCallStatus: "completed",
      RecordingDuration: "12",
      RecordingUrl: expect.stringMatching(
        new RegExp(`/Accounts/${f.engine.accountSid}/Recordings/${recordingSid}$`),
      ),
    });
    const status = await f.app.waitFor((r) => r.path === "/dial-recording" && r.params.CallSid === callSid);
    // Requested with the method the Dial named, signed as a GET is (its parameters in the URL).
    expect(status.method).toBe("GET");
    expect(status.signatureValid).toBe(true);
    expect(status.params).toMatchObject({
      RecordingSid: recordingSid,
      RecordingStatus: "completed",
      RecordingDuration: "12",
      RecordingSource: "DialVerb",
      RecordingChannels: "1",
    });
    const os = await openRecordings(f.engine.nc, "us1");
    const wav = await os.getBlob(recordingSid);
    expect(readWavHeader(wav ?? new Uint8Array()).durationMs).toBe(12_000);
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
    const children = await Promise.all((await f.childSids(callSid)).map(record));
    const byTo = Object.fromEntries(children.map((c) => [c.to, c]));
    expect(byTo[OUTSIDE_2]?.sid).toBe(action?.params.DialCallSid);
    expect(Object.fromEntries(children.map((c) => [c.to, c.status]))).toEqual({
      [OUTSIDE]: "canceled",
      [OUTSIDE_2]: "completed",
      "sip:bob@example.com": "canceled",
      "client:alice": "busy",
    });
  });

  it("rings nouns one after another with sequential, each for the timeout, until one answers", async () => {
    const { callSid, call, action } = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after", sequential: true, timeout: 10 });
        d.number(OUTSIDE);
        d.number(OUTSIDE_2);
        d.client("alice");
      },
      {
        callees: {
          [OUTSIDE]: { outcome: "no-answer" },
          // Together it would have answered at 2 s, before OUTSIDE gave up; in turn it rings from 10 s.
          [OUTSIDE_2]: { outcome: "answer", answerAfter: 2, talk: 5 },
          "client:alice": { outcome: "answer", answerAfter: 1 },
        },
      },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialCallDuration: "5" });
    const children = await Promise.all((await f.childSids(callSid)).map(record));
    // The first rang its 10 s out; the second answered; the third was never rung.
    expect(Object.fromEntries(children.map((c) => [c.to, c.status]))).toEqual({
      [OUTSIDE]: "no-answer",
      [OUTSIDE_2]: "completed",
    });
    // The caller rang 10 s (the first) + 2 s (the second) before 5 s of talk.
    expect(Number(call.duration)).toBeGreaterThanOrEqual(17);
  });

  it("the REST Calls list finds the child legs by ParentCallSid, in Twilio's Call schema", async () => {
    const { callSid, action } = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after" });
        d.number(OUTSIDE);
        d.client("alice");
      },
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 2, talk: 3 } } },
    );
    await using api = Object.assign(
      await startApi({ nc: f.engine.nc, port: 0, log: pino({ level: "silent" }) }),
      {
        [Symbol.asyncDispose]: () => api.close(),
      },
    );
    const path = `/2010-04-01/Accounts/${f.engine.accountSid}/Calls.json`;
    const res = await request(`${api.url}${path}?ParentCallSid=${callSid}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${f.engine.accountSid}:${f.engine.authToken}`).toString("base64")}`,
      },
    });
    const body = (await res.body.json()) as { calls: CallResource[] };
    expect(res.statusCode).toBe(200);
    expect(twilioSchemas().check("GET", path, 200, body)).toEqual([]);
    expect(body.calls.map((c) => [c.to, c.status, c.direction, c.parent_call_sid]).sort()).toEqual([
      [OUTSIDE, "completed", "outbound-dial", callSid],
      ["client:alice", "canceled", "outbound-dial", callSid],
    ]);
    expect(body.calls.find((c) => c.to === OUTSIDE)?.sid).toBe(action?.params.DialCallSid);
  });

  it("when no parallel noun answers, reports no-answer over busy over failed, naming that leg", async () => {
    const busyAndFailed = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after" });
        d.number(OUTSIDE);
        d.number(OUTSIDE_2);
      },
      { callees: { [OUTSIDE]: { outcome: "failed" }, [OUTSIDE_2]: { outcome: "busy" } } },
    );
    expect(busyAndFailed.action?.params.DialCallStatus).toBe("busy");
    expect((await record(busyAndFailed.action?.params.DialCallSid ?? "")).to).toBe(OUTSIDE_2);

    const all = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after", timeout: 8 });
        d.number(OUTSIDE);
        d.number(OUTSIDE_2);
        d.client("alice");
      },
      {
        callees: {
          [OUTSIDE]: { outcome: "busy" },
          [OUTSIDE_2]: { outcome: "no-answer" },
          "client:alice": { outcome: "failed" },
        },
      },
    );
    expect(all.action?.params).toMatchObject({ DialCallStatus: "no-answer", DialBridged: "false" });
    expect((await record(all.action?.params.DialCallSid ?? "")).to).toBe(OUTSIDE_2);
  });

  it("without an action, goes on to the next verb once the callee hangs up", async () => {
    // Every call's `.out` in the region: the leg's own subject shows it ring, answer and end.
    const byCall = new Map<string, string[]>();
    const sub = f.engine.nc.subscribe("sb.region.us1.call.*.out", {
      callback: (_err, msg) => {
        const sid = msg.subject.split(".")[4] ?? "";
        const e = decode(msg.data) as ChannelOut;
        byCall.set(sid, [...(byCall.get(sid) ?? []), e.kind === "ended" ? `ended:${e.status}` : e.kind]);
      },
    });
    await f.engine.nc.flush();
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
    await f.engine.nc.flush();
    sub.unsubscribe();
    const dialed = out.find((e): e is Extract<ChannelOut, { kind: "dial" }> => e.kind === "dial");
    expect(byCall.get(dialed?.callSid ?? "")).toEqual(["ringing", "answer", "ended:completed"]);
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
    await f.app.waitFor(
      (r) => r.path === "/leg" && r.params.CallSid === childSid && r.params.CallStatus === "completed",
    );
    const events = f.app.requests.filter((r) => r.path === "/leg" && r.params.CallSid === childSid);
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
    expect(ordered.map((r) => r.params.SequenceNumber)).toEqual(["0", "1", "2", "3"]);
  });

  it.each([
    [undefined, "answer", [["completed", "0", "200"]]],
    [
      ["answered", "completed"],
      "answer",
      [
        ["in-progress", "0", undefined],
        ["completed", "1", "200"],
      ],
    ],
    [undefined, "busy", [["busy", "0", "486"]]],
    [
      ["ringing", "completed"],
      "no-answer",
      [
        ["ringing", "0", undefined],
        ["no-answer", "1", "487"],
      ],
    ],
  ] as const)(
    "numbers only the leg callbacks its noun asked for (%j, %s), from 0; the last has a SipResponseCode",
    async (statusCallbackEvent, outcome, expected) => {
      const { action } = await dialCall(
        (r) =>
          r.dial({ action: "/after", timeout: 10 }).number(
            {
              statusCallback: "/leg",
              ...(statusCallbackEvent && { statusCallbackEvent: [...statusCallbackEvent] }),
            },
            OUTSIDE,
          ),
        { callees: { [OUTSIDE]: { outcome, answerAfter: 2, talk: 4 } } },
      );
      const childSid = action?.params.DialCallSid ?? "";
      const sentFor = () => f.app.requests.filter((r) => r.path === "/leg" && r.params.CallSid === childSid);
      // Callbacks may arrive in any order (as on Twilio): wait for as many as expected.
      await f.app.waitFor(() => sentFor().length >= expected.length);
      const sent = sentFor().map((r) => [
        r.params.CallStatus,
        r.params.SequenceNumber,
        r.params.SipResponseCode,
      ]);
      expect(sent.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual(expected);
    },
  );
});
