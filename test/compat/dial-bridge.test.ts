// <Dial> through a real engine: how a bridge starts and ends — sendDigits, answerOnBridge,
// timeLimit, hangupOnStar, and the caller hanging up while the legs ring or talk.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { type DialFixture, OUTSIDE, OUTSIDE_2, startDialFixture } from "./dial-fixture.js";

let f: DialFixture;
beforeAll(async () => {
  f = await startDialFixture();
});
afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});
const dialCall: DialFixture["dialCall"] = (xml, caller) => f.dialCall(xml, caller);
const record: DialFixture["record"] = (sid) => f.record(sid);

describe("the <Dial> bridge", () => {
  it("sends <Number sendDigits> to the callee once it answers, before the bridge", async () => {
    const { action } = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ sendDigits: "Ww1w234" }, OUTSIDE),
      {
        callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 10 } },
      },
    );
    // W 1 s, w 0.5 s each, keys 0.25 s each: 3 s of digits after 1 s of ringing, then 10 s of talk.
    const child = await record(action?.params.DialCallSid ?? "");
    expect(Date.parse(child.end_time ?? "") - Date.parse(child.start_time ?? "")).toBe(14_000);
    expect(action?.params.DialCallDuration).toBe(child.duration);
  });

  it("answerOnBridge: a first Dial leaves the caller ringing until the bridge answers it", async () => {
    const bridged = await dialCall((r) => r.dial({ answerOnBridge: true }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 4, talk: 5 } },
    });
    const kinds = bridged.out.map((e) => e.kind);
    expect(kinds.slice(0, 3)).toEqual(["ringing", "answer", "dial"]);
    // Answered at the bridge, so the call completed (a call never answered ends no-answer).
    expect(bridged.call.status).toBe("completed");

    const busy = await dialCall((r) => r.dial({ answerOnBridge: true, action: "/after" }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "busy" } },
    });
    expect(busy.action?.params).toMatchObject({ CallStatus: "ringing", DialCallStatus: "busy" });
    expect(busy.out.map((e) => e.kind).slice(0, 2)).toEqual(["ringing", "answer"]);
    const plain = await dialCall((r) => r.dial({ action: "/after" }, OUTSIDE), {
      callees: { [OUTSIDE]: { outcome: "busy" } },
    });
    expect(plain.action?.params).toMatchObject({ CallStatus: "in-progress", DialCallStatus: "busy" });
  });

  it("answerOnBridge: a <Conference> answers the caller as it joins the room (it never rang on)", async () => {
    const joined = await dialCall(
      (r) => r.dial({ answerOnBridge: true, action: "/after" }).conference("aob-room"),
      { hangupAfter: 3 },
    );
    expect(joined.out.map((e) => e.kind).slice(0, 2)).toEqual(["ringing", "answer"]);
    // Answered, so its own hang-up (3 s after the answer) ends it completed, not no-answer.
    expect(joined.call).toMatchObject({ status: "completed", duration: "3" });
  });

  it("hangupOnStar: the caller's * takes it out of a <Conference>, and the action is requested (answered)", async () => {
    const { action, call } = await dialCall(
      (r) => {
        r.dial({ action: "/after", hangupOnStar: true }).conference("star-room");
      },
      { starAfter: [2], hangupAfter: 60 },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "answered", DialBridged: "true" });
    expect(action?.params.ConferenceSid).toMatch(/^CF[0-9a-f]{32}$/);
    expect(call.status).toBe("completed");
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

  // Twilio requests the action "when the <Dial> call ends", whoever hung up
  // (https://www.twilio.com/docs/voice/twiml/dial), here with the caller gone: CallStatus=completed.
  it("a caller who hangs up ends the bridge: the leg completes and the action is still requested", async () => {
    const { callSid, call, requests, out } = await dialCall(
      (r) =>
        r
          .dial({ action: "/after" })
          .number({ statusCallback: "/leg", statusCallbackEvent: ["completed"] }, OUTSIDE),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 2, talk: 60 } }, hangupAfter: 10 },
    );
    expect(requests.map((r) => r.path)).toContain("/voice");
    expect(call.status).toBe("completed");
    const after = await f.app.waitFor((r) => r.path === "/after" && r.params.CallSid === callSid);
    expect(after.params).toMatchObject({
      CallStatus: "completed",
      DialCallStatus: "completed",
      DialBridged: "true",
      DialCallDuration: "8",
    });
    const dialed = out.find((e): e is Extract<ChannelOut, { kind: "dial" }> => e.kind === "dial");
    const done = await f.app.waitFor(
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
        f.app.waitFor((r) => r.path === "/leg" && r.params.ParentCallSid === callSid && r.params.To === to),
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
