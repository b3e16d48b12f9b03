// <Dial> through a real engine: the whisper (`<Number url>`) run on the callee before the bridge,
// and a dialed number switchboard hosts becoming a real inbound call to its own app.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCallerId } from "../../src/admin/caller-ids.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import type { ReceivedRequest } from "../helpers/twilio-app.js";
import {
  type DialFixture,
  HOSTED,
  HOSTED_BUSY,
  HOSTED_HELD,
  NUMBER,
  OUTSIDE,
  startDialFixture,
} from "./dial-fixture.js";

let f: DialFixture;
beforeAll(async () => {
  f = await startDialFixture();
});
afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});
const dialCall: DialFixture["dialCall"] = (xml, caller) => f.dialCall(xml, caller);
const record: DialFixture["record"] = (sid) => f.record(sid);

describe("<Number url> whisper", () => {
  const whisperRequests = (childSid: string, path: string) =>
    f.app.requests.filter((r: ReceivedRequest) => r.path === path && r.params.CallSid === childSid);

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
  it("the callee's digits answer one whisper <Gather> each, as the caller's do", async () => {
    const { action } = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper-pin" }, OUTSIDE),
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 3, digits: ["1234", "1"] } } },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    const childSid = action?.params.DialCallSid ?? "";
    expect(whisperRequests(childSid, "/whisper-pin-check")[0]?.params.Digits).toBe("1234");
    expect(whisperRequests(childSid, "/whisper-choice")[0]?.params.Digits).toBe("1");
  });

  it("skips a <Dial> in the whisper with 13201 and plays the rest", async () => {
    const { action } = await dialCall(
      (r) => r.dial({ action: "/after" }).number({ url: "/whisper-dial" }, OUTSIDE),
      {
        callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1, talk: 2 } },
      },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    const notes = await f.engine.notifications(action?.params.DialCallSid ?? "");
    expect(notes.map((n) => n.error_code)).toEqual(["13201"]);
  });
});

describe("<Dial> to a number switchboard hosts", () => {
  it("is a real inbound call to that number's app; the bridge lasts until that call ends", async () => {
    // A caller ID the account verified (OutgoingCallerIds): Twilio shows no other number.
    await addCallerId(f.engine.global, f.engine.accountSid, "+15550001234");
    const { callSid, action } = await dialCall((r) =>
      r.dial({ action: "/after", callerId: "+15550001234" }, HOSTED),
    );
    const hosted = f.app.requests.find((r) => r.path === "/hosted" && r.params.From === "+15550001234");
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

  /** Dials HOSTED_HELD and resolves once the parent is bridged to its (held, so live) call. */
  async function bridgedToHeld(build: Parameters<DialFixture["dialCall"]>[0]) {
    // The parent's own `dial` command says it is bridged: the hosted call's answer and the test's
    // input reach the parent's worker on different connections, so /held alone does not order them.
    const bridged = new Set<string>();
    let onBridged = (_sid: string) => {};
    const dials = f.engine.nc.subscribe(subjects().anyCallOut("*"), {
      callback: (_err, msg) => {
        if ((decode(msg.data) as ChannelOut).kind !== "dial") return;
        const sid = msg.subject.split(".")[4] ?? "";
        bridged.add(sid);
        onBridged(sid);
      },
    });
    await f.engine.nc.flush();
    const dialing = f.dialCall(build);
    const held = await f.app.waitFor(
      (r) => r.path === "/held" && r.params.To === HOSTED_HELD && !seen.has(r.params.CallSid ?? ""),
    );
    seen.add(held.params.CallSid ?? "");
    const parent = f.app.requests.filter((r) => r.path === "/voice" && r.params.To === NUMBER).at(-1);
    expect(parent?.at).toBeLessThanOrEqual(held.at);
    const hostedEnded = new Promise<void>((resolve) => {
      const sub = f.engine.nc.subscribe(subjects().anyCallOut(held.params.CallSid ?? ""), {
        callback: (_err, msg) => {
          if ((decode(msg.data) as ChannelOut).kind === "ended") {
            sub.unsubscribe();
            resolve();
          }
        },
      });
    });
    await f.engine.nc.flush();
    const parentSid = parent?.params.CallSid ?? "";
    await new Promise<void>((resolve) => {
      onBridged = (sid) => sid === parentSid && resolve();
      if (bridged.has(parentSid)) resolve();
    });
    dials.unsubscribe();
    const toParent = (event: unknown) =>
      f.engine.nc.publish(subjects().callIn("us1", parent?.params.CallSid ?? ""), encode(event));
    return { dialing, held, parentSid: parent?.params.CallSid ?? "", hostedEnded, toParent };
  }
  const seen = new Set<string>();

  // Twilio requests the action "when the <Dial> call ends", whoever hung up
  // (https://www.twilio.com/docs/voice/twiml/dial: "Twilio will make a GET or POST request to the
  // action URL (if provided) when the <Dial> call ends"; only without an action does it ask whether
  // "the original caller is still on the line"). With the caller gone, CallStatus is completed.
  it("a caller who hangs up during the bridge hangs the hosted call up too; the action is still requested", async () => {
    const release = f.hold();
    const { dialing, held, parentSid, hostedEnded, toParent } = await bridgedToHeld((r) =>
      r.dial({ action: "/after" }).number({ statusCallback: "/leg" }, HOSTED_HELD),
    );
    toParent({ kind: "hangup" });
    const { callSid, requests } = await dialing;
    expect(callSid).toBe(parentSid);
    expect(requests.map((r) => r.path)).toContain("/voice");
    await hostedEnded;
    release();
    const after = await f.app.waitFor((r) => r.path === "/after" && r.params.CallSid === callSid);
    expect(after.params).toMatchObject({
      CallStatus: "completed",
      DialCallStatus: "completed",
      DialBridged: "true",
    });
    const inbound = await record(held.params.CallSid ?? "");
    expect(inbound).toMatchObject({ direction: "inbound", status: "completed", to: HOSTED_HELD });
    const leg = await f.app.waitFor((r) => r.path === "/leg" && r.params.ParentCallSid === callSid);
    expect(leg.params.CallStatus).toBe("completed");
    expect(await f.childSids(callSid)).toEqual([leg.params.CallSid]);
    expect(await record(leg.params.CallSid ?? "")).toMatchObject({ status: "completed", to: HOSTED_HELD });
  });

  it("hangupOnStar: a live * on the caller's .in ends the bridge, hangs the hosted call up, and goes on", async () => {
    const release = f.hold();
    const { dialing, held, hostedEnded, toParent } = await bridgedToHeld((r) =>
      r.dial({ action: "/after", hangupOnStar: true }, HOSTED_HELD),
    );
    toParent({ kind: "digits", digits: "5*" });
    const { action } = await dialing;
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    await hostedEnded;
    release();
    expect(await record(held.params.CallSid ?? "")).toMatchObject({ status: "completed", to: HOSTED_HELD });
    expect(await record(action?.params.DialCallSid ?? "")).toMatchObject({ status: "completed" });
  });

  it("gives a hosted number whose region takes no calls up as no-answer after the timeout", async () => {
    // ie1 has its streams but no worker: the edge stores the call and nobody ever answers it.
    await provisionRegionStreams(f.engine.nc, "ie1");
    await f.engine.addNumber({ number: "+15551237010", voiceUrl: `${f.app.url}/hosted`, region: "ie1" });
    const started = Date.now();
    const { action } = await dialCall((r) => r.dial({ action: "/after", timeout: 5 }, "+15551237010"));
    expect(action?.params).toMatchObject({ DialCallStatus: "no-answer", DialBridged: "false" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    expect(await record(action?.params.DialCallSid ?? "")).toMatchObject({ status: "no-answer" });
  });

  it("fails the leg, with a notification, when the hosted number's edge refuses the call", async () => {
    // Routed to a region that has no call stream: the edge cannot store the call (90003).
    await f.engine.addNumber({ number: "+15551237011", voiceUrl: `${f.app.url}/hosted`, region: "ap9" });
    const { action } = await dialCall((r) => r.dial({ action: "/after" }, "+15551237011"));
    expect(action?.params).toMatchObject({ DialCallStatus: "failed", DialBridged: "false" });
    const notes = await f.engine.notifications(action?.params.DialCallSid ?? "");
    expect(notes.map((n) => n.error_code)).toEqual(["90003"]);
  });

  it("rings a hosted number and a simulated party together; the hosted call answers first here", async () => {
    // At time-scale 0 the parent's clock waits for the hosted call (real time), so the simulated
    // party's 1 s of ringing has not passed when the hosted number's app answers.
    const { callSid, action } = await dialCall(
      (r) => {
        const d = r.dial({ action: "/after" });
        d.number(OUTSIDE);
        d.number(HOSTED);
      },
      { callees: { [OUTSIDE]: { outcome: "answer", answerAfter: 1 } } },
    );
    expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    const legs = await Promise.all((await f.childSids(callSid)).map(record));
    expect(Object.fromEntries(legs.map((l) => [l.to, l.status]))).toEqual({
      [OUTSIDE]: "canceled",
      [HOSTED]: "completed",
    });
    expect(legs.find((l) => l.to === HOSTED)?.sid).toBe(action?.params.DialCallSid);
  });
});
