// <Record transcribe="true"> as a Twilio survey app meets it (issue #19, items 1–2): the
// transcribeCallback comes after the Record's action, so an app that keeps the answer in its action
// handler finds it; and the transcription is served at every path Twilio has (the callback's
// TranscriptionUrl, the account's list and instance, the recording's), read and deleted with the
// official `twilio` client, each response checked against Twilio's OpenAPI description.
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import { RegionWorker } from "../../src/region/worker.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { type Answer, startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const NUMBER = "+15551238100";

let engine: TestEngine;
let worker: RegionWorker;
let api: Api;
let app: TwilioApp;
/** RecordingSids whose action the app has answered: its "answers" table. */
const answers = new Set<string>();
/** What the app answered each transcribeCallback, by RecordingSid. */
const txAnswers = new Map<string, number>();

beforeAll(async () => {
  engine = await startTestEngine({ worker: false, shippedUsers: true });
  const log = pino({ level: "silent" });
  api = await startApi({ nc: await engine.connectAs("api"), port: 0, log });
  worker = await RegionWorker.start({
    nc: await engine.connectAs("region-us1"),
    region: "us1",
    log,
    apiUrl: api.url,
    drainMs: 1_000,
  });
  const twiml = (build: (r: InstanceType<typeof VoiceResponse>) => void): Answer => {
    const r = new VoiceResponse();
    build(r);
    return { body: r.toString() };
  };
  app = await startTwilioApp(engine.authToken, {
    "/voice": () =>
      twiml((r) =>
        r.record({ action: "/answer", finishOnKey: "#", transcribe: true, transcribeCallback: "/tx" }),
      ),
    "/answer": (req) => {
      answers.add(req.params.RecordingSid ?? "");
      return twiml((r) => r.hangup());
    },
    // The survey app: a transcript for an answer it does not have yet is an error (500).
    "/tx": (req) => {
      const status = answers.has(req.params.RecordingSid ?? "") ? 204 : 500;
      txAnswers.set(req.params.RecordingSid ?? "", status);
      return { status, body: "" };
    },
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

async function recordedCall(text: string) {
  const placed = await engine.call({
    to: NUMBER,
    caller: { recordings: [{ text, seconds: 4, key: "#" }], timeScale: 0 },
  });
  const of = (path: string) =>
    app.waitFor((r) => r.path === path && r.params.CallSid === placed.callSid, 15_000);
  const action = await of("/answer");
  const tx = await of("/tx");
  return { placed, action, tx };
}

describe("<Record transcribe>", () => {
  it("sends the transcribeCallback after the action request, so the app has the answer it transcribes", async () => {
    const { placed, action, tx } = await recordedCall("yes I would recommend you");
    const sid = action.params.RecordingSid ?? "";
    expect(tx.params.RecordingSid).toBe(sid);
    expect(tx.at).toBeGreaterThanOrEqual(action.at);
    expect(txAnswers.get(sid)).toBe(204);
    expect(tx.signatureValid).toBe(true);
    expect((await engine.notifications(placed.callSid)).map((n) => n.error_code)).not.toContain("15003");
  });

  it("serves the transcription at its TranscriptionUrl and every path Twilio has, and deletes it", async () => {
    const { tx } = await recordedCall("please call me back");
    const trSid = tx.params.TranscriptionSid ?? "";
    const reSid = tx.params.RecordingSid ?? "";
    const basic = `Basic ${Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64")}`;
    const byUrl = await request(tx.params.TranscriptionUrl ?? "", { headers: { authorization: basic } });
    expect(byUrl.statusCode).toBe(200);
    expect(await byUrl.body.json()).toMatchObject({ sid: trSid, recording_sid: reSid });

    const { client } = twilioClient(api.url, { sid: engine.accountSid, token: engine.authToken });
    const fetched = await client.transcriptions(trSid).fetch();
    expect(fetched).toMatchObject({
      sid: trSid,
      recordingSid: reSid,
      status: "completed",
      transcriptionText: "please call me back",
      uri: `/2010-04-01/Accounts/${engine.accountSid}/Transcriptions/${trSid}.json`,
    });
    expect((await client.transcriptions.list()).map((t) => t.sid)).toContain(trSid);
    expect((await client.recordings(reSid).transcriptions.list()).map((t) => t.sid)).toEqual([trSid]);
    expect((await client.recordings(reSid).transcriptions(trSid).fetch()).transcriptionText).toBe(
      "please call me back",
    );

    expect(await client.transcriptions(trSid).remove()).toBe(true);
    expect((await client.transcriptions.list()).map((t) => t.sid)).not.toContain(trSid);
    expect(await client.recordings(reSid).transcriptions.list()).toEqual([]);
    await expect(client.transcriptions(trSid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    // The recording stays, with its creation time.
    const recording = await client.recordings(reSid).fetch();
    expect(recording.sid).toBe(reSid);
    expect(Date.now() - recording.dateCreated.getTime()).toBeLessThan(60_000);
  });
});
