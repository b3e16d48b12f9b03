// Shared by the <Dial> compat tests: a whole engine (a real nats-server, a region worker, an edge)
// and a webhook app that checks every signature with the official `twilio` package. NUMBER answers
// with whatever TwiML the test gives `dialCall`; HOSTED numbers run their own apps.
import type { CallProgress } from "../../src/caller/place-call.js";
import { readCall } from "../../src/caller/place-call.js";
import type { CallResource } from "../../src/model/records.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import type { CallerScript } from "../../src/protocol/offer.js";
import { callIndexFilter, openCallIndex } from "../../src/store/call-index.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

export const NUMBER = "+15551237000";
export const HOSTED = "+15551237001";
export const HOSTED_BUSY = "+15551237002";
/** Its app's second document waits while a test's `hold()` is in force (the call stays live). */
export const HOSTED_HELD = "+15551237003";
export const CALLER = "+15557654321";
export const OUTSIDE = "+15559990001";
export const OUTSIDE_2 = "+15559990002";

type Build = (r: InstanceType<typeof VoiceResponse>) => void;

export interface DialFixture extends AsyncDisposable {
  engine: TestEngine;
  app: TwilioApp;
  /** Places a call to NUMBER, whose app answers with `xml`, and collects what the call did. */
  dialCall(
    xml: Build,
    caller?: CallerScript,
  ): Promise<
    Awaited<ReturnType<TestEngine["call"]>> & {
      out: ChannelOut[];
      requests: TwilioApp["requests"];
      action: TwilioApp["requests"][number] | undefined;
    }
  >;
  record(sid: string): Promise<CallResource>;
  /** Holds HOSTED_HELD's app's second document until the returned function is called. */
  hold(): () => void;
  /** The child legs the Calls list shows for a parent (the index the REST API reads). */
  childSids(parentCallSid: string): Promise<string[]>;
}

const twiml = (build: Build) => () => {
  const r = new VoiceResponse();
  build(r);
  return { body: r.toString() };
};

/** `shippedUsers`: the engine runs each role on its shipped NATS user (test/helpers/engine.ts). */
export async function startDialFixture(opts: { shippedUsers?: boolean } = {}): Promise<DialFixture> {
  const engine = await startTestEngine({ shippedUsers: opts.shippedUsers ?? false });
  let voice: () => string = () => "<Response/>";
  let held = Promise.resolve();
  let releaseHeld = () => {};
  const hold = () => {
    held = new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    return releaseHeld;
  };
  const app = await startTwilioApp(engine.authToken, {
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
    // Two whisper prompts in a row: a PIN, then the choice.
    "/whisper-pin": twiml((r) => r.gather({ numDigits: 4, action: "/whisper-pin-check" }).say("Your PIN")),
    "/whisper-pin-check": (req) => {
      const r = new VoiceResponse();
      if (req.params.Digits === "1234") r.gather({ numDigits: 1, action: "/whisper-choice" }).say("Press 1");
      else r.hangup();
      return { body: r.toString() };
    },
    "/whisper-dial": twiml((r) => {
      r.dial("+15550000000");
      r.say("Dialing is not allowed here");
    }),
    "/hosted-busy": twiml((r) => r.reject({ reason: "busy" })),
    "/hosted-held": twiml((r) => {
      r.say("Please hold");
      r.redirect("/held");
    }),
    "/held": async () => {
      await held;
      return { body: "<Response/>" };
    },
    "/hosted": twiml((r) => {
      r.say("This is the hosted number's own app");
      r.pause({ length: 4 });
    }),
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
  await engine.addNumber({ number: HOSTED, voiceUrl: `${app.url}/hosted` });
  await engine.addNumber({ number: HOSTED_BUSY, voiceUrl: `${app.url}/hosted-busy` });
  await engine.addNumber({ number: HOSTED_HELD, voiceUrl: `${app.url}/hosted-held` });
  return {
    engine,
    app,
    async dialCall(xml, caller = {}) {
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
    },
    record: (sid) => readCall(engine.nc, "us1", sid),
    hold,
    async childSids(parentCallSid) {
      const kv = await openCallIndex(engine.nc, "us1");
      const keys: string[] = [];
      const filter = callIndexFilter({ accountSid: engine.accountSid, parentCallSid });
      for await (const key of await kv.keys(filter)) keys.push(key);
      return keys.map((k) => k.split(".")[3] ?? "").sort();
    },
    async [Symbol.asyncDispose]() {
      releaseHeld();
      await app.close();
      await engine[Symbol.asyncDispose]();
    },
  };
}
