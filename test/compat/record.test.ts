// <Record> as a Twilio app sees it: the action, recordingStatusCallback and transcribeCallback
// requests with Twilio's exact parameters (each validated by the official `twilio` package), the WAV
// and the Recording resource from the REST API, hang-up mid-recording, and the empty-recording
// fall-through. Also Gather's partialResultCallback and a digits-only Play. Real nats-server, real
// region worker, real api; the simulated caller plays its script at time-scale 0.
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import type { CallProgress } from "../../src/caller/place-call.js";
import { readWavHeader } from "../../src/media/wav.js";
import { encode } from "../../src/protocol/codec.js";
import type { CallerScript } from "../../src/protocol/offer.js";
import { subjects } from "../../src/protocol/subjects.js";
import { RegionWorker } from "../../src/region/worker.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import {
  type ReceivedRequest,
  startTwilioApp,
  type TwilioApp,
  VoiceResponse,
} from "../helpers/twilio-app.js";
import { STANDARD } from "./harness.js";

const NUMBER = "+15551238000";
const STATUS_PARAMS = [
  "AccountSid",
  "CallSid",
  "ErrorCode",
  "RecordingChannels",
  "RecordingDuration",
  "RecordingSid",
  "RecordingSource",
  "RecordingStartTime",
  "RecordingStatus",
  "RecordingUrl",
];

let engine: TestEngine;
let worker: RegionWorker;
let api: Api;
let app: TwilioApp;
/** The TwiML the next call's /voice answers with. */
let voice: (r: InstanceType<typeof VoiceResponse>) => void = () => {};

beforeAll(async () => {
  engine = await startTestEngine({ worker: false, shippedUsers: true });
  const log = pino({ level: "silent" });
  api = await startApi({ nc: await engine.connectAs("api"), port: 0, log });
  // Its RecordingUrl must point at this test's api, so the worker is started here with its URL.
  worker = await RegionWorker.start({
    nc: await engine.connectAs("region-us1"),
    region: "us1",
    log,
    apiUrl: api.url,
    drainMs: 1_000,
  });
  const twiml = (build: (r: InstanceType<typeof VoiceResponse>) => void) => () => {
    const r = new VoiceResponse();
    build(r);
    return { body: r.toString() };
  };
  app = await startTwilioApp(engine.authToken, {
    "/voice": () => twiml(voice)(),
    "/recorded": twiml((r) => {
      r.say("Thanks for your message.");
      r.hangup();
    }),
    "/gathered": twiml((r) => r.hangup()),
    "/rs": () => ({ status: 204, body: "" }),
    "/tx": () => ({ status: 204, body: "" }),
    "/partial": () => ({ status: 204, body: "" }),
    "/status": () => ({ status: 204, body: "" }),
  });
  await engine.addNumber({
    number: NUMBER,
    voiceUrl: `${app.url}/voice`,
    statusCallback: `${app.url}/status`,
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

async function call(twiml: typeof voice, caller: Omit<CallerScript, "timeScale">) {
  voice = twiml;
  const channel: CallProgress[] = [];
  const placed = await engine.call({
    to: NUMBER,
    caller: { ...caller, timeScale: 0 },
    onProgress: (p) => {
      if (p.source === "channel") channel.push(p);
    },
  });
  const events = channel.flatMap((p) => (p.source === "channel" ? [p.event] : []));
  const said = events.flatMap((e) => (e.kind === "say" ? [e.text] : []));
  const of = (path: string, match: (r: ReceivedRequest) => boolean = () => true) =>
    app.waitFor((r) => r.path === path && r.params.CallSid === placed.callSid && match(r));
  return { placed, events, said, of };
}

const sorted = (params: Record<string, string>) => Object.keys(params).sort();
const auth = () => `Basic ${Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64")}`;

async function rest(url: string) {
  const res = await request(url, { headers: { authorization: auth() } });
  return {
    status: res.statusCode,
    type: res.headers["content-type"],
    body: Buffer.from(await res.body.arrayBuffer()),
  };
}

describe("<Record>", () => {
  it("stores the caller's message and requests action, recordingStatusCallback and transcribeCallback as Twilio does", async () => {
    const { placed, said, of, events } = await call(
      (r) => {
        r.record({
          action: "/recorded",
          finishOnKey: "#",
          recordingStatusCallback: "/rs",
          recordingStatusCallbackEvent: ["in-progress", "completed"],
          transcribe: true,
          transcribeCallback: "/tx",
        });
        r.say("Not reached: the action's TwiML runs instead.");
      },
      { recordings: [{ text: "please call me back about the invoice", seconds: 4, key: "#" }] },
    );
    expect(said).toEqual(["Thanks for your message."]);
    expect(events.find((e) => e.kind === "record")).toEqual({
      kind: "record",
      finishOnKey: "#",
      timeout: 5,
      maxLength: 120,
      beep: true,
    });

    const action = await of("/recorded");
    expect(sorted(action.params)).toEqual(
      [...STANDARD, "Digits", "RecordingDuration", "RecordingSid", "RecordingUrl"].sort(),
    );
    const sid = action.params.RecordingSid ?? "";
    expect(sid).toMatch(/^RE[0-9a-f]{32}$/);
    expect(action.params).toMatchObject({
      CallSid: placed.callSid,
      AccountSid: engine.accountSid,
      CallStatus: "in-progress",
      RecordingUrl: `${api.url}/2010-04-01/Accounts/${engine.accountSid}/Recordings/${sid}`,
      RecordingDuration: "4",
      Digits: "#",
    });

    const inProgress = await of("/rs", (r) => r.params.RecordingStatus === "in-progress");
    const completed = await of("/rs", (r) => r.params.RecordingStatus === "completed");
    for (const cb of [inProgress, completed]) {
      expect(cb.signatureValid).toBe(true);
      // The duration (and the outcome's ErrorCode) are known once the recording has ended.
      const later = ["RecordingDuration", "ErrorCode"];
      expect(sorted(cb.params)).toEqual(STATUS_PARAMS.filter((p) => cb === completed || !later.includes(p)));
      expect(cb.params).toMatchObject({
        AccountSid: engine.accountSid,
        CallSid: placed.callSid,
        RecordingSid: sid,
        RecordingUrl: action.params.RecordingUrl,
        RecordingChannels: "1",
        RecordingSource: "RecordVerb",
      });
      expect(cb.params.RecordingStartTime).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    }
    expect(completed.params).toMatchObject({ RecordingDuration: "4", ErrorCode: "0" });

    const tx = await of("/tx");
    expect(sorted(tx.params)).toEqual(
      [
        ...STANDARD,
        "RecordingSid",
        "RecordingUrl",
        "TranscriptionSid",
        "TranscriptionStatus",
        "TranscriptionText",
        "TranscriptionType",
        "TranscriptionUrl",
      ].sort(),
    );
    expect(tx.params).toMatchObject({
      RecordingSid: sid,
      RecordingUrl: action.params.RecordingUrl,
      TranscriptionText: "please call me back about the invoice",
      TranscriptionStatus: "completed",
    });
    expect(tx.params.TranscriptionSid).toMatch(/^TR[0-9a-f]{32}$/);

    // The media the RecordingUrl names, as the api serves it: a WAV of the recorded length.
    const wav = await rest(`${action.params.RecordingUrl}.wav`);
    expect(wav.status).toBe(200);
    expect(wav.type).toBe("audio/x-wav");
    expect(readWavHeader(new Uint8Array(wav.body))).toEqual({
      sampleRate: 8000,
      channels: 1,
      bitsPerSample: 16,
      durationMs: 4000,
    });

    const resource = JSON.parse((await rest(`${action.params.RecordingUrl}.json`)).body.toString("utf8"));
    expect(resource).toMatchObject({
      sid,
      account_sid: engine.accountSid,
      call_sid: placed.callSid,
      duration: "4",
      status: "completed",
      source: "RecordVerb",
      channels: 1,
    });
    const list = await rest(
      `${api.url}/2010-04-01/Accounts/${engine.accountSid}/Calls/${placed.callSid}/Recordings.json`,
    );
    expect(JSON.parse(list.body.toString("utf8")).recordings.map((r: { sid: string }) => r.sid)).toEqual([
      sid,
    ]);
    const transcriptions = await rest(
      `${api.url}/2010-04-01/Accounts/${engine.accountSid}/Recordings/${sid}/Transcriptions.json`,
    );
    expect(JSON.parse(transcriptions.body.toString("utf8")).transcriptions).toMatchObject([
      {
        sid: tx.params.TranscriptionSid,
        recording_sid: sid,
        status: "completed",
        transcription_text: "please call me back about the invoice",
      },
    ]);
  });

  it("still stores the recording and requests the action with Digits=hangup when the caller hangs up", async () => {
    const { placed, said, of } = await call(
      (r) => {
        r.record({ action: "/recorded", recordingStatusCallback: "/rs" });
      },
      { recordings: [{ text: "I was saying something long", seconds: 60 }], hangupAfter: 10 },
    );
    expect(placed.call.status).toBe("completed");
    const action = await of("/recorded");
    expect(action.signatureValid).toBe(true);
    expect(action.params).toMatchObject({
      Digits: "hangup",
      RecordingDuration: "10",
      CallStatus: "completed",
    });
    // Twilio ignores the TwiML the action returns after a hang-up.
    expect(said).toEqual([]);
    // The call's record is written after its recording: the media is there once the call has ended.
    const wav = await rest(`${action.params.RecordingUrl}.wav`);
    expect(readWavHeader(new Uint8Array(wav.body)).durationMs).toBe(10_000);
    const completed = await of("/rs");
    expect(completed.params).toMatchObject({
      RecordingSid: action.params.RecordingSid,
      RecordingDuration: "10",
    });
  });

  it("treats a live hang-up on the channel's .in subject the same way", async () => {
    voice = (r) => {
      r.record({ action: "/recorded", timeout: 0 });
    };
    // Real time: the caller would talk for a minute; it hangs up as soon as the recording starts.
    let callSid: string | undefined;
    let recording = false;
    const hangUp = () => {
      if (callSid && recording)
        engine.nc.publish(subjects().callIn("us1", callSid), encode({ kind: "hangup" }));
    };
    const placed = await engine.call({
      to: NUMBER,
      caller: { recordings: [{ text: "a long story", seconds: 60 }], timeScale: 1 },
      onProgress: (p) => {
        if (p.source === "offered") callSid = p.callSid;
        if (p.source === "channel" && p.event.kind === "record") recording = true;
        hangUp();
      },
    });
    expect(placed.call.status).toBe("completed");
    const action = await app.waitFor((r) => r.path === "/recorded" && r.params.CallSid === placed.callSid);
    expect(action.params).toMatchObject({ Digits: "hangup", CallStatus: "completed" });
    expect(Number(action.params.RecordingDuration)).toBeLessThan(60);
  });

  it("requests nothing and goes on to the next verb when the recording is empty", async () => {
    const { said, of, placed } = await call((r) => {
      r.record({
        action: "/recorded",
        timeout: 3,
        recordingStatusCallback: "/rs",
        recordingStatusCallbackEvent: ["absent"],
      });
      r.say("We did not get a message.");
    }, {});
    // Twilio: "if Twilio receives an empty recording, it will not make a request to the action URL".
    expect(said).toEqual(["We did not get a message."]);
    const absent = await of("/rs");
    expect(absent.params).toMatchObject({ RecordingStatus: "absent", RecordingDuration: "0" });
    await of("/status");
    expect(app.requests.filter((r) => r.params.CallSid === placed.callSid).map((r) => r.path)).toEqual([
      "/voice",
      "/rs",
      "/status",
    ]);
  });

  it("ends at maxLength with no Digits", async () => {
    const { of } = await call((r) => r.record({ action: "/recorded", maxLength: 5 }), {
      recordings: [{ text: "a very long story", seconds: 30 }],
    });
    const action = await of("/recorded");
    expect(action.params.RecordingDuration).toBe("5");
    expect(action.params.Digits).toBeUndefined();
  });

  it("ignores keys outside finishOnKey, and keeps the trailing silence with trim=do-not-trim", async () => {
    const { of } = await call(
      (r) => r.record({ action: "/recorded", finishOnKey: "#", timeout: 2, trim: "do-not-trim" }),
      { recordings: [{ text: "press one", seconds: 3, key: "1" }] },
    );
    const action = await of("/recorded");
    // 3 s of speech, then the 2 s of silence that ended it; the 1 did not.
    expect(action.params.RecordingDuration).toBe("5");
    expect(action.params.Digits).toBeUndefined();
    const wav = await rest(`${action.params.RecordingUrl}.wav`);
    expect(readWavHeader(new Uint8Array(wav.body)).durationMs).toBe(5000);
  });
});

describe("<Gather partialResultCallback>", () => {
  it("requests each growing speech result with a SequenceNumber before the action", async () => {
    const { of } = await call(
      (r) => {
        r.gather({ input: ["speech"], action: "/gathered", partialResultCallback: "/partial" });
      },
      { speech: ["my modem is broken"] },
    );
    const action = await of("/gathered");
    expect(action.params.SpeechResult).toBe("my modem is broken");
    const partials = await Promise.all(
      [0, 1, 2, 3].map((n) => of("/partial", (r) => r.params.SequenceNumber === String(n))),
    );
    expect(partials.map((p) => p.params.UnstableSpeechResult)).toEqual([
      "my",
      "my modem",
      "my modem is",
      "my modem is broken",
    ]);
    for (const p of partials) {
      expect(p.signatureValid).toBe(true);
      expect(p.params).toMatchObject({
        Stability: expect.stringMatching(/^0\.\d+$/),
        CallStatus: "in-progress",
      });
    }
  });
});

describe("<Play digits>", () => {
  it("sends the DTMF, with w as a half-second pause, and goes on", async () => {
    const { events, placed } = await call((r) => {
      r.play({ digits: "1w2W3" });
      r.say("Sent.");
    }, {});
    expect(events.filter((e) => e.kind === "digits" || e.kind === "say")).toEqual([
      { kind: "digits", digits: "1w2W3" },
      { kind: "say", text: "Sent.", voice: expect.any(String), language: "en-US" },
    ]);
    // Three keys (0.2 s each) + 0.5 s + 1 s, and "Sent." (0.3 s): 2.4 s, rounded as Twilio does.
    expect(placed.call.duration).toBe("2");
  });
});
