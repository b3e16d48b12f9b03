// <Record>: records the caller until a finishOnKey key, `timeout` seconds of silence, `maxLength` or
// hang-up; stores the WAV (and its transcription) and requests the action URL with RecordingUrl,
// RecordingSid, RecordingDuration and Digits. An empty recording requests nothing: the call moves on
// to the next verb, as Twilio documents. A hang-up still stores the recording and requests the action
// (through the durable callback outbox, since the call has moved on and its TwiML is ignored).
import { ErrorCodes } from "../../errors/codes.js";
import { rfc2822 } from "../../model/dates.js";
import type { HttpMethod } from "../../model/http.js";
import { newSid } from "../../model/sid.js";
import { isHandOver } from "../abort-reasons.js";
import { booleanAttribute } from "../attribute-values.js";
import type { RecordedAudio } from "../ports/channel.js";
import {
  recordingStatusCallbackOf,
  recordingStatusEvents,
  sendRecordingStatus,
} from "../recording-status.js";
import { resolveUrl } from "../resolve-url.js";
import type { VerbContext } from "../verb-context.js";
import type { VerbOutcome } from "../verb-data.js";
import type { ParseContext, VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, checkNoText } from "../verb-parsing.js";
import type { RecordingStatusEvent, RecordVerb } from "./record/data.js";

const ATTRIBUTES = [
  "action",
  "method",
  "timeout",
  "finishOnKey",
  "maxLength",
  "playBeep",
  "trim",
  "recordingStatusCallback",
  "recordingStatusCallbackMethod",
  "recordingStatusCallbackEvent",
  "transcribe",
  "transcribeCallback",
  "recordingConfigurationId",
];
/** Twilio's longest recording without the 24-hour feature (4 h). */
const MAX_LENGTH_LIMIT = 14_400;
/** Twilio transcribes recordings of 2 to 120 seconds only. */
const TRANSCRIBABLE_MS = { min: 2_000, max: 120_000 };
/**
 * How long after the recording its transcription is sent (real time): Twilio's arrive seconds later,
 * after the action request, which this delay leaves room for.
 */
const TRANSCRIPTION_DELAY_MS = 2_000;
/** Twilio's warning for a silent recording that was not stored. */
const SILENT_RECORDING = 16102;

export const record: VerbDefinition<RecordVerb> = {
  name: "Record",
  parse(el, ctx) {
    checkAttributes(el, ATTRIBUTES, ctx);
    checkChildElements(el, ctx);
    checkNoText(el, ctx);
    const a = el.attributes;
    const transcribe = booleanAttribute(
      el,
      "transcribe",
      false,
      ctx,
      ErrorCodes.recordInvalidTranscribe.code,
    );
    const statusCallback = url(a.recordingStatusCallback, "recordingStatusCallback", ctx);
    const transcribeCallback = url(a.transcribeCallback, "transcribeCallback", ctx);
    return {
      name: "Record",
      action: action(a.action, ctx),
      method: method(a.method, "method", ErrorCodes.recordInvalidMethod.code, ctx),
      timeout: wholeSeconds(a.timeout, 5, 0, ErrorCodes.recordInvalidTimeout.code, "timeout", ctx),
      finishOnKey: finishOnKey(a.finishOnKey, ctx),
      // Twilio's default is an hour, or two minutes when transcribing (the transcription limit); a
      // value must be greater than 1.
      maxLength: wholeSeconds(
        a.maxLength,
        transcribe ? 120 : 3600,
        2,
        ErrorCodes.recordInvalidMaxLength.code,
        "maxLength",
        ctx,
      ),
      playBeep: booleanAttribute(el, "playBeep", true, ctx, ErrorCodes.recordInvalidPlayBeep.code),
      trimSilence: trim(a.trim, ctx),
      ...(statusCallback && { recordingStatusCallback: statusCallback }),
      recordingStatusCallbackMethod: method(
        a.recordingStatusCallbackMethod,
        "recordingStatusCallbackMethod",
        ErrorCodes.schemaValidation.code,
        ctx,
      ),
      recordingStatusCallbackEvent: recordingStatusEvents(a.recordingStatusCallbackEvent, ctx, "Record"),
      transcribe,
      ...(transcribeCallback && { transcribeCallback }),
    };
  },

  execute(ctx, verb, signal) {
    // The recording's whole life is kept by the region, not by this verb's promise: a hang-up aborts
    // the signal and the call moves on, but the recording must still be stored and the action sent.
    const work = recordCaller(ctx, verb, signal);
    ctx.recordings.keep(work);
    return work.then((outcome) => {
      signal.throwIfAborted();
      return outcome;
    });
  },
};

async function recordCaller(ctx: VerbContext, verb: RecordVerb, signal: AbortSignal): Promise<VerbOutcome> {
  // Named by the verb's place in the call: a resumed call that runs this <Record> again asks its
  // channel for the same recording (which carries it on) and stores it under the same sid, once.
  const sid = ctx.step !== undefined && ctx.stableSid ? ctx.stableSid("RE", ctx.step) : newSid("RE");
  const started = ctx.clock.now();
  const recordingUrl = ctx.recordings.url(sid);
  const callback = recordingStatusCallbackOf(verb);
  const status = (recordingStatus: RecordingStatusEvent, extra: Record<string, string> = {}) =>
    sendRecordingStatus(ctx, callback, sid, recordingStatus, {
      AccountSid: ctx.call.accountSid,
      CallSid: ctx.call.callSid,
      RecordingUrl: recordingUrl,
      RecordingChannels: "1",
      RecordingStartTime: rfc2822(started),
      RecordingSource: "RecordVerb",
      ...extra,
    });

  await status("in-progress");
  let audio: RecordedAudio;
  try {
    audio = await ctx.channel.record(
      {
        timeoutMs: verb.timeout * 1000,
        maxLengthMs: verb.maxLength * 1000,
        finishOnKey: verb.finishOnKey,
        playBeep: verb.playBeep,
        trimSilence: verb.trimSilence,
        ...(verb.transcribe && { transcribe: true }),
        key: sid,
      },
      signal,
    );
  } catch (err) {
    // Handed to another worker, whose same <Record> carries the recording on and stores it.
    if (isHandOver(signal.reason)) return { kind: "next" };
    throw err;
  }
  const hungUp = audio.digits === "hangup";
  // Cancelled, but the caller is still there (a redirect, or the call handed to another worker,
  // which records again): nothing to keep.
  if (signal.aborted && !hungUp) return { kind: "next" };
  if (audio.durationMs === 0) {
    // Twilio: "if Twilio receives an empty recording, it will not make a request to the action URL";
    // the recording is absent (not stored) and the call goes on with the next verb.
    await status("absent", { RecordingDuration: "0", ErrorCode: String(SILENT_RECORDING) });
    return hungUp ? { kind: "hangup" } : { kind: "next" };
  }
  const transcribe =
    verb.transcribe && audio.durationMs >= TRANSCRIBABLE_MS.min && audio.durationMs <= TRANSCRIBABLE_MS.max;
  // A resumed call's run started later than its recording did (which it carried on).
  const startTime = Math.min(started, ctx.clock.now() - audio.durationMs);
  const { transcription } = await ctx.recordings.store({ sid, startTime, audio, transcribe });
  const duration = String(Math.round(audio.durationMs / 1000));
  await status("completed", { RecordingDuration: duration, ErrorCode: "0" });
  // Transcribing takes Twilio a while after the recording: its callback is queued now (durably) but
  // sent once it is due, after the action this verb ends with (an app that stores the answer in its
  // action handler and the transcript in its transcribeCallback relies on that order).
  const transcribed = async () => {
    if (!transcription || !verb.transcribeCallback) return;
    await ctx.callback({
      url: verb.transcribeCallback,
      method: "POST",
      key: `${sid}.transcription`,
      delayMs: TRANSCRIPTION_DELAY_MS,
      params: {
        ...ctx.callParams(hungUp ? "completed" : "in-progress"),
        TranscriptionSid: transcription.sid,
        TranscriptionText: transcription.text,
        TranscriptionStatus: transcription.status,
        TranscriptionUrl: transcription.url,
        TranscriptionType: "fast",
        RecordingSid: sid,
        RecordingUrl: recordingUrl,
      },
    });
  };
  const params: Record<string, string> = {
    RecordingUrl: recordingUrl,
    RecordingSid: sid,
    RecordingDuration: duration,
    // The key that ended it, or "hangup"; none when silence or maxLength did.
    ...(audio.digits !== "" && { Digits: audio.digits }),
  };
  if (!hungUp) {
    await transcribed();
    return verb.action === ""
      ? { kind: "next" }
      : { kind: "fetch", url: verb.action, method: verb.method, params };
  }
  if (verb.action === "") {
    await transcribed();
    return { kind: "hangup" };
  }
  // The caller is gone: Twilio still requests the action (its TwiML is ignored), after the call.
  await ctx.callback({
    url: verb.action,
    method: verb.method,
    key: `${sid}.action`,
    params: { ...ctx.callParams("completed"), ...params },
  });
  await transcribed();
  return { kind: "hangup" };
}

/** The standard request parameters a verb can give from the call's identity. */

/**
 * The action, by default the document's own URL. A document given as `Twiml` (REST) has no URL: an
 * action there must be absolute, and without one Twilio reports 11100; the recording is then kept
 * and the call goes on with the next verb ("").
 */
function action(raw: string | undefined, ctx: ParseContext): string {
  const resolved = url(raw, "action", ctx);
  if (resolved !== undefined) return resolved;
  if (ctx.documentUrl === "" && (raw === undefined || raw.trim() === "")) {
    ctx.warn(ErrorCodes.invalidUrl.code, "<Record> in a Twiml document needs an absolute action URL");
  }
  return ctx.documentUrl;
}

function url(raw: string | undefined, name: string, ctx: ParseContext): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  try {
    const resolved = resolveUrl(raw.trim(), ctx.documentUrl);
    if (resolved.protocol === "http:" || resolved.protocol === "https:") return resolved.href;
  } catch {}
  ctx.warn(ErrorCodes.invalidUrl.code, `<Record> ${name}="${raw}" is not an http(s) URL; ignored`);
  return undefined;
}

function method(raw: string | undefined, name: string, code: number, ctx: ParseContext): HttpMethod {
  if (raw === undefined || raw === "POST") return "POST";
  if (raw === "GET") return "GET";
  ctx.warn(code, `<Record> ${name}="${raw}" is not GET or POST; using POST`);
  return "POST";
}

function wholeSeconds(
  raw: string | undefined,
  fallback: number,
  min: number,
  code: number,
  name: string,
  ctx: ParseContext,
): number {
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isSafeInteger(n) && n >= min && n <= MAX_LENGTH_LIMIT) return n;
  ctx.warn(code, `<Record> ${name}="${raw}" is not a whole number of seconds in range; using ${fallback}`);
  return fallback;
}

function finishOnKey(raw: string | undefined, ctx: ParseContext): string {
  if (raw === undefined) return "1234567890*#";
  if (/^[0-9#*]*$/.test(raw)) return raw;
  ctx.warn(
    ErrorCodes.recordInvalidFinishOnKey.code,
    `<Record> finishOnKey="${raw}" is not a set of 0-9 # *; using 1234567890*#`,
  );
  return "1234567890*#";
}

function trim(raw: string | undefined, ctx: ParseContext): boolean {
  if (raw === undefined || raw === "trim-silence") return true;
  if (raw === "do-not-trim") return false;
  // Twilio's 13699: "Defaults to no trim."
  ctx.warn(ErrorCodes.recordInvalidTrim.code, `<Record> trim="${raw}" is not trim-silence or do-not-trim`);
  return false;
}
