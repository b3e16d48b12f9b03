// Live-call changes on `sb.region.<r>.call.<sid>.control` (what REST `POST Calls/{Sid}.json` sends):
// the current verb is interrupted and the call carries on with the new instructions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress, PlacedCall } from "../../src/caller/place-call.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import type { CallResource } from "../../src/model/records.js";
import type { CallControl } from "../../src/protocol/call-control.js";
import { encode } from "../../src/protocol/codec.js";
import { readReply } from "../../src/protocol/service-error.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

let engine: TestEngine;
let app: TwilioApp;
let n = 0;

beforeAll(async () => {
  engine = await startTestEngine();
  app = await startTwilioApp(engine.authToken, {
    "/park": () => {
      const r = new VoiceResponse();
      r.say("Please hold");
      r.pause({ length: 600 });
      r.say("never reached");
      return { body: r.toString() };
    },
    "/next": () => {
      const r = new VoiceResponse();
      r.say("Moved on");
      return { body: r.toString() };
    },
  });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** Starts a real-time call that parks in a 600 s Pause; resolves once it is parked. */
async function parkedCall() {
  const number = `+1555400${String(n++).padStart(4, "0")}`;
  await engine.addNumber({ number, voiceUrl: `${app.url}/park` });
  const said: string[] = [];
  let parked!: (sid: string) => void;
  const isParked = new Promise<string>((resolve) => {
    parked = resolve;
  });
  let callSid = "";
  const ended: Promise<PlacedCall> = engine.call({
    to: number,
    caller: { timeScale: 1 },
    onProgress: (p: CallProgress) => {
      if (p.source === "offered") callSid = p.callSid;
      if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
      if (p.source === "channel" && p.event.kind === "pause") parked(callSid);
    },
  });
  return { sid: await isParked, ended, said };
}

async function control(callSid: string, change: CallControl): Promise<CallResource> {
  const msg = await engine.nc.request(`sb.region.us1.call.${callSid}.control`, encode(change), {
    timeout: 5_000,
  });
  return readReply(msg) as CallResource;
}

describe("live-call control", () => {
  it("redirects a parked call to a new URL, which is requested with the call in progress", async () => {
    const call = await parkedCall();
    const now = await control(call.sid, { url: `${app.url}/next`, method: "POST" });
    expect(now).toMatchObject({ sid: call.sid, status: "in-progress", end_time: null, duration: null });
    const placed = await call.ended;
    expect(call.said).toEqual(["Please hold", "Moved on"]);
    expect(placed.call.status).toBe("completed");
    const next = app.requests.find((r) => r.path === "/next" && r.params.CallSid === call.sid);
    expect(next?.params.CallStatus).toBe("in-progress");
    expect(next?.signatureValid).toBe(true);
  });

  it("runs new TwiML given inline", async () => {
    const call = await parkedCall();
    await control(call.sid, { twiml: "<Response><Say>Inline instructions</Say></Response>" });
    await call.ended;
    expect(call.said).toEqual(["Please hold", "Inline instructions"]);
  });

  it("hangs up on Status=completed, and ignores canceled once the call is answered", async () => {
    const call = await parkedCall();
    expect((await control(call.sid, { status: "canceled" })).status).toBe("in-progress");
    expect((await control(call.sid, { status: "completed" })).status).toBe("completed");
    const placed = await call.ended;
    expect(placed.call.status).toBe("completed");
    expect(call.said).toEqual(["Please hold"]);
  });

  it("refuses Twiml over 4000 characters with 32018 and leaves the call alone", async () => {
    const call = await parkedCall();
    const err = await control(call.sid, {
      twiml: `<Response><Say>${"x".repeat(4000)}</Say></Response>`,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe(32018);
    await control(call.sid, { status: "completed" });
    await call.ended;
  });
});
