// <Record>: reading it as Twilio does, and running it against a fake channel and recording port.
import { describe, expect, it } from "vitest";
import { encodeWav, readWavHeader } from "../../src/media/wav.js";
import { keyedSid, type SidPrefix } from "../../src/model/sid.js";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { RecordVerb } from "../../src/twiml/verbs/record/data.js";
import { record } from "../../src/twiml/verbs/record.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { fakeContext } from "./fakes.js";

const DOC = "https://app.example/voicemail/start";

function parse(build: (r: InstanceType<typeof VoiceResponse>) => void) {
  const r = new VoiceResponse();
  build(r);
  return parseTwiml(r.toString(), DOC);
}

const codes = (doc: ReturnType<typeof parseTwiml>) => doc.warnings.map((w) => w.code);

describe("<Record> attributes", () => {
  it("takes Twilio's defaults, with the document's own URL as the action", () => {
    const doc = parse((r) => r.record());
    expect(doc.verbs[0]).toEqual({
      name: "Record",
      action: DOC,
      method: "POST",
      timeout: 5,
      finishOnKey: "1234567890*#",
      maxLength: 3600,
      playBeep: true,
      trimSilence: true,
      recordingStatusCallbackMethod: "POST",
      recordingStatusCallbackEvent: ["completed"],
      transcribe: false,
    });
    expect(doc.warnings).toEqual([]);
  });

  it("reads every attribute, resolving URLs against the document", () => {
    const doc = parse((r) =>
      r.record({
        action: "done",
        method: "GET",
        timeout: 0,
        finishOnKey: "#*",
        maxLength: 30,
        playBeep: false,
        trim: "do-not-trim",
        recordingStatusCallback: "/rec-status",
        recordingStatusCallbackMethod: "GET",
        recordingStatusCallbackEvent: ["in-progress", "completed", "absent"],
        transcribe: true,
        transcribeCallback: "https://other.example/tx",
      }),
    );
    expect(doc.verbs[0]).toEqual({
      name: "Record",
      action: "https://app.example/voicemail/done",
      method: "GET",
      timeout: 0,
      finishOnKey: "#*",
      maxLength: 30,
      playBeep: false,
      trimSilence: false,
      recordingStatusCallback: "https://app.example/rec-status",
      recordingStatusCallbackMethod: "GET",
      recordingStatusCallbackEvent: ["in-progress", "completed", "absent"],
      transcribe: true,
      transcribeCallback: "https://other.example/tx",
    });
    expect(doc.warnings).toEqual([]);
  });

  it("limits a transcribed recording to 120 s unless maxLength says otherwise", () => {
    const doc = parse((r) => r.record({ transcribe: true }));
    expect((doc.verbs[0] as RecordVerb).maxLength).toBe(120);
  });

  it("warns with Twilio's Record codes and uses the defaults for bad values", () => {
    const doc = parseTwiml(
      `<Response><Record method="PUT" timeout="-1" maxLength="99999" finishOnKey="1a"
        trim="cut" recordingStatusCallbackEvent="completed bogus" playBeep="yes"/></Response>`,
      DOC,
    );
    expect(codes(doc).sort()).toEqual([13610, 13611, 13612, 13613, 13616, 13621, 13699]);
    expect(doc.verbs[0]).toMatchObject({
      method: "POST",
      timeout: 5,
      maxLength: 3600,
      finishOnKey: "1234567890*#",
      // Twilio's 13699: an invalid trim value "defaults to no trim".
      trimSilence: false,
      recordingStatusCallbackEvent: ["completed"],
      playBeep: true,
    });
  });

  it("takes maxLength from 2 s (Twilio: greater than 1), and warns 13614 about a bad transcribe", () => {
    const doc = parseTwiml(
      `<Response><Record maxLength="1"/><Record maxLength="2"/><Record transcribe="yes"/></Response>`,
      DOC,
    );
    expect(codes(doc)).toEqual([13612, 13614]);
    expect((doc.verbs as RecordVerb[]).map((v) => v.maxLength)).toEqual([3600, 2, 3600]);
  });

  it("needs an absolute action in a document given as Twiml (11100), and then just records", async () => {
    const doc = parseTwiml(`<Response><Record/><Record action="/x"/></Response>`, "");
    expect(codes(doc)).toEqual([11100, 11100]);
    const { ctx, channel, recordings } = fakeContext();
    channel.nextRecording = { wav: encodeWav([{ ms: 2000, speech: true }]), durationMs: 2000, digits: "" };
    const outcome = await record.execute(ctx, doc.verbs[0] as RecordVerb, new AbortController().signal);
    expect(outcome).toEqual({ kind: "next" });
    expect(recordings.stored).toHaveLength(1);
  });

  it("takes no children and no text (12200)", () => {
    const doc = parseTwiml(`<Response><Record>text<Say>x</Say></Record></Response>`, DOC);
    expect(codes(doc)).toEqual([12200, 12200]);
  });
});

describe("<Record> execution", () => {
  const verb = (extra: Partial<RecordVerb> = {}): RecordVerb => ({
    ...(parse((r) => r.record()).verbs[0] as RecordVerb),
    ...extra,
  });
  const audio = (ms: number, digits: string, transcript?: string) => ({
    wav: encodeWav([{ ms, speech: true }]),
    durationMs: ms,
    digits,
    ...(transcript && { transcript }),
  });

  it("passes its attributes to the channel and requests the action with the recording", async () => {
    const { ctx, channel, recordings } = fakeContext();
    channel.nextRecording = audio(3400, "#");
    const outcome = await record.execute(
      ctx,
      verb({ timeout: 2, maxLength: 60 }),
      new AbortController().signal,
    );
    expect(channel.calls).toEqual([
      [
        "record",
        {
          timeoutMs: 2000,
          maxLengthMs: 60_000,
          finishOnKey: "1234567890*#",
          playBeep: true,
          trimSilence: true,
          key: recordings.stored[0]?.sid,
        },
      ],
    ]);
    const [stored] = recordings.stored;
    expect(stored?.sid).toMatch(/^RE[0-9a-f]{32}$/);
    expect(outcome).toEqual({
      kind: "fetch",
      url: DOC,
      method: "POST",
      params: {
        RecordingUrl: ctx.recordings.url(stored?.sid ?? ""),
        RecordingSid: stored?.sid,
        RecordingDuration: "3",
        Digits: "#",
      },
    });
    expect(recordings.kept).toHaveLength(1);
  });

  it("names the recording by the verb's step in the call, so that a resumed call's same <Record> asks for it again", async () => {
    const sidAt = async (step: string | undefined, key = "the account's token") => {
      const { ctx, channel, recordings } = fakeContext();
      channel.nextRecording = audio(3400, "#");
      const stableSid = (prefix: SidPrefix, ...parts: string[]) =>
        keyedSid(prefix, key, ctx.call.callSid, ...parts);
      await record.execute({ ...ctx, step, stableSid }, verb(), new AbortController().signal);
      const sid = recordings.stored[0]?.sid;
      // The channel is asked for the recording by the same name.
      expect(channel.calls[0]?.[1]).toMatchObject({ key: sid });
      return sid;
    };
    const first = await sidAt("1.0");
    expect(first).toMatch(/^RE[0-9a-f]{32}$/);
    expect(await sidAt("1.0")).toBe(first);
    expect(await sidAt("2.0")).not.toBe(first);
    // Keyed by the account's secret: the CallSid and the step alone do not give it.
    expect(await sidAt("1.0", "another token")).not.toBe(first);
    // Without a step (a whisper's document), each run is a recording of its own.
    expect(await sidAt(undefined)).not.toBe(await sidAt(undefined));
  });

  it("moves on to the next verb without a request when the recording is empty", async () => {
    const { ctx, channel, recordings, callbacks } = fakeContext();
    channel.nextRecording = { wav: encodeWav([]), durationMs: 0, digits: "" };
    const outcome = await record.execute(ctx, verb(), new AbortController().signal);
    expect(outcome).toEqual({ kind: "next" });
    expect(recordings.stored).toEqual([]);
    expect(callbacks).toEqual([]);
  });

  it("tells recordingStatusCallback the recording is absent when asked to", async () => {
    const { ctx, channel, callbacks } = fakeContext();
    channel.nextRecording = { wav: encodeWav([]), durationMs: 0, digits: "" };
    await record.execute(
      ctx,
      verb({ recordingStatusCallback: "https://app.example/rs", recordingStatusCallbackEvent: ["absent"] }),
      new AbortController().signal,
    );
    expect(callbacks.map((c) => c.params.RecordingStatus)).toEqual(["absent"]);
  });

  it("requests the action through the durable outbox when the caller hangs up", async () => {
    const { ctx, channel, callbacks, recordings } = fakeContext();
    channel.nextRecording = audio(2000, "hangup");
    const aborted = new AbortController();
    aborted.abort(new Error("caller hung up"));
    await expect(record.execute(ctx, verb(), aborted.signal)).rejects.toThrow("caller hung up");
    await Promise.all(recordings.kept);
    expect(recordings.stored).toHaveLength(1);
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toMatchObject({
      url: DOC,
      method: "POST",
      params: { Digits: "hangup", RecordingDuration: "2", CallStatus: "completed" },
    });
  });

  it("keeps nothing when cancelled while the caller is still there (redirect, hand-over)", async () => {
    const { ctx, channel, callbacks, recordings } = fakeContext();
    channel.nextRecording = audio(2000, "");
    const cancelled = new AbortController();
    cancelled.abort(new Error("redirected"));
    await expect(record.execute(ctx, verb(), cancelled.signal)).rejects.toThrow("redirected");
    await Promise.all(recordings.kept);
    expect(recordings.stored).toEqual([]);
    expect(callbacks).toEqual([]);
  });

  it("transcribes only recordings of 2 to 120 seconds", async () => {
    for (const [ms, expected] of [
      [1500, false],
      [2000, true],
      [121_000, false],
    ] as const) {
      const { ctx, channel, recordings } = fakeContext();
      channel.nextRecording = audio(ms, "", "hello");
      await record.execute(ctx, verb({ transcribe: true, maxLength: 200 }), new AbortController().signal);
      expect(recordings.stored[0]?.transcribe).toBe(expected);
    }
  });
});

describe("WAV encoding", () => {
  it("writes a PCM header whose data length gives the duration", () => {
    const wav = encodeWav([
      { ms: 1250, speech: true },
      { ms: 500, speech: false },
    ]);
    expect(readWavHeader(wav)).toEqual({
      sampleRate: 8000,
      channels: 1,
      bitsPerSample: 16,
      durationMs: 1750,
    });
    expect(wav.byteLength).toBe(44 + 1.75 * 8000 * 2);
  });
});
