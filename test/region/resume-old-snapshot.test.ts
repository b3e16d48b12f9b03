// An upgrade with calls in flight: a call stored by a worker of the machine before issue #15 (one
// child state per verb, `{"executing-twiml": "Pause"}`) is claimed from its dead owner by a worker
// of this machine, which migrates the snapshot on restore and carries the call on to its end.
import { readFileSync } from "node:fs";
import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../src/protocol/codec.js";
import { buckets } from "../../src/protocol/subjects.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

// Stored by a real worker of the old machine, 1 s into a call parked in `<Pause length="3">` after
// `<Say>Hold</Say>`, before `<Redirect>/back</Redirect>`; the app had set a session cookie.
const FIXTURE = new URL("./fixtures/call-snapshot-per-verb-states.json", import.meta.url);

interface Fixture {
  recordedWith: { appUrl: string; accountSid: string };
  stored: {
    value: unknown;
    context: { facts: { callSid: string }; arrivedAt: number; answeredAt: number };
    sb: { owner: string; clockAt: number; job: { offeredAt: number } };
  };
}

let engine: TestEngine;
let app: TwilioApp;

beforeAll(async () => {
  engine = await startTestEngine();
  app = await startTwilioApp(engine.authToken, {
    "/back": () => ({ body: new VoiceResponse().say("Back").toString() }),
  });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** The fixture as this engine would have stored it: its app, its account, times as of now. */
function storedHere(): Fixture["stored"] {
  const { recordedWith, stored } = JSON.parse(readFileSync(FIXTURE, "utf8")) as Fixture;
  const text = JSON.stringify(stored)
    .replaceAll(recordedWith.appUrl, app.url)
    .replaceAll(recordedWith.accountSid, engine.accountSid);
  const s = JSON.parse(text) as Fixture["stored"];
  // Stored a second ago: the call's 4-hour limit counts from its arrival.
  const shift = Date.now() - s.sb.clockAt;
  s.context.arrivedAt += shift;
  s.context.answeredAt += shift;
  s.sb.job.offeredAt += shift;
  s.sb.clockAt += shift;
  return s;
}

describe("a worker upgraded while calls were parked", () => {
  it("resumes a call stored in a per-verb state of the old machine, to its end", async () => {
    const stored = storedHere();
    expect(stored.value).toEqual({ "executing-twiml": "Pause" });
    const callSid = stored.context.facts.callSid;
    const owner = stored.sb.owner;
    const actors = await new Kvm(engine.nc).open(buckets.actors("us1"));
    const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
    const record = (async () => {
      const watch = await calls.watch({ key: callSid });
      for await (const e of watch) {
        if (e.operation === "PUT") {
          watch.stop();
          return e.json() as { status: string; error_code?: unknown };
        }
      }
      throw new Error("the watch ended without a record");
    })();
    // The old worker's lease and snapshot, as it left them; then its heartbeat goes (it is gone).
    await actors.put(`_o.${owner}.${callSid}`, encode(stored.sb.job));
    await actors.put(callSid, JSON.stringify(stored));
    await actors.put(`_w.${owner}`, JSON.stringify({ at: Date.now(), pid: 0 }));
    await actors.purge(`_w.${owner}`);

    const back = await app.waitFor((r) => r.path === "/back" && r.params.CallSid === callSid);
    // The Pause ran again in this worker, then its Redirect, with the cookie the app had set.
    expect(back.headers.cookie).toBe("session=abc123");
    expect(back.params.CallStatus).toBe("in-progress");
    expect(await record).toMatchObject({ status: "completed" });
    expect(engine.worker?.counters.resumed).toBe(1);
  });
});
