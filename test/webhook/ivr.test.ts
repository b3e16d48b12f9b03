// A full IVR written as a Twilio developer writes it — TwiML from twilio.twiml.VoiceResponse, every
// request checked by the official twilio.webhook() middleware — run by switchboard's callers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress } from "../../src/caller/place-call.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import {
  type ReceivedRequest,
  startTwilioApp,
  type TwilioApp,
  VoiceResponse,
} from "../helpers/twilio-app.js";

const NUMBER = "+15551239000";
let engine: TestEngine;
let app: TwilioApp;

beforeAll(async () => {
  engine = await startTestEngine();
  app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.gather({ numDigits: 1, action: "/menu" }).say("For sales press 1. For support press 2.");
      r.say("We did not receive any input. Goodbye.");
      return { body: r.toString() };
    },
    "/menu": (req) => {
      const r = new VoiceResponse();
      if (req.params.Digits === "1") r.say("Connecting you to sales.");
      else if (req.params.Digits === "2") {
        r.gather({ input: ["speech"], action: "/support", speechTimeout: "auto" }).say(
          "Describe your problem.",
        );
      } else r.redirect("/voice");
      return { body: r.toString() };
    },
    "/support": (req) => {
      const r = new VoiceResponse();
      r.say(`You said: ${req.params.SpeechResult}`);
      r.hangup();
      return { body: r.toString() };
    },
    "/status": () => ({ status: 204, body: "" }),
  });
  await engine.addNumber({
    number: NUMBER,
    voiceUrl: `${app.url}/voice`,
    statusCallback: `${app.url}/status`,
  });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

async function call(caller: { digits?: string[]; speech?: string[] }) {
  const said: string[] = [];
  const placed = await engine.call({
    to: NUMBER,
    caller: { ...caller, timeScale: 0 },
    onProgress: (p: CallProgress) => {
      if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
    },
  });
  // The status callback goes out after the call is stored; it is the call's last request.
  await app.waitFor((r) => r.path === "/status" && r.params.CallSid === placed.callSid);
  const requests = app.requests.filter((r) => r.params.CallSid === placed.callSid);
  return { placed, said, requests };
}

const summary = (r: ReceivedRequest) => [
  r.path,
  r.params.CallStatus,
  r.params.Digits ?? r.params.SpeechResult ?? "",
];

describe("an IVR", () => {
  it("routes keys then speech through the menus, every request validated by twilio.webhook()", async () => {
    const { placed, said, requests } = await call({ digits: ["2"], speech: ["my modem is broken"] });
    expect(requests.map(summary)).toEqual([
      ["/voice", "ringing", ""],
      ["/menu", "in-progress", "2"],
      ["/support", "in-progress", "my modem is broken"],
      ["/status", "completed", ""],
    ]);
    expect(requests.every((r) => r.signatureValid)).toBe(true);
    expect(requests[2]?.params.Confidence).toMatch(/^0\.\d{2}$/);
    expect(said).toEqual([
      "For sales press 1. For support press 2.",
      "Describe your problem.",
      "You said: my modem is broken",
    ]);
    expect(placed.call.status).toBe("completed");
  });

  it("loops back to the menu on a wrong key, then takes the right one", async () => {
    const { requests, said } = await call({ digits: ["9", "1"] });
    expect(requests.map(summary)).toEqual([
      ["/voice", "ringing", ""],
      ["/menu", "in-progress", "9"],
      ["/voice", "in-progress", ""],
      ["/menu", "in-progress", "1"],
      ["/status", "completed", ""],
    ]);
    expect(requests.every((r) => r.signatureValid)).toBe(true);
    expect(said.at(-1)).toBe("Connecting you to sales.");
  });

  it("falls through to the next verb when the caller says nothing", async () => {
    const { requests, said, placed } = await call({});
    expect(requests.map((r) => r.path)).toEqual(["/voice", "/status"]);
    expect(said).toEqual([
      "For sales press 1. For support press 2.",
      "We did not receive any input. Goodbye.",
    ]);
    // The prompt, then the 5 s timeout, then the goodbye: the call's own clock counted them.
    expect(Number(placed.call.duration)).toBeGreaterThanOrEqual(8);
  });
});
