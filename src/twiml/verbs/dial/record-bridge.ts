// <Dial record="…">: the bridged conversation kept as a Recording of the parent call, its URL on the
// Dial's action (RecordingUrl) and a recordingStatusCallback when asked for. A SIP call's bridge is
// recorded by its gateway (the real audio; `-dual`: the caller left, the callee right); the simulated
// network carries no audio, so its WAV holds the bridge's length of tone (`-dual` says 2 channels but
// holds one). record-from-ringing counts from the answer too: the ringing time is not known to the verb.

import { encodeWav } from "../../../media/wav.js";
import { rfc2822 } from "../../../model/dates.js";
import { newSid } from "../../../model/sid.js";
import { recordingStatusCallbackOf, sendRecordingStatus } from "../../recording-status.js";
import type { VerbContext } from "../../verb-context.js";
import type { DialVerb } from "./data.js";
import type { DialResult } from "./noun.js";

/** The action's recording parameters, once the recording is stored; none when nothing was recorded. */
export async function recordBridge(
  ctx: VerbContext,
  verb: DialVerb,
  result: DialResult,
  bridgedAt: number,
): Promise<Record<string, string>> {
  if (verb.record === "do-not-record" || !result.bridged) return {};
  if (result.durationS <= 0 && !result.audio?.durationMs) return {};
  const sid = newSid("RE");
  const durationMs = result.audio?.durationMs ?? result.durationS * 1000;
  const seconds = String(Math.round(durationMs / 1000));
  await ctx.recordings.store({
    sid,
    startTime: bridgedAt,
    audio: result.audio ?? { wav: encodeWav([{ ms: durationMs, speech: true }]), durationMs, digits: "" },
    transcribe: false,
    source: "DialVerb",
    channels: verb.record.endsWith("-dual") ? 2 : 1,
  });
  const url = ctx.recordings.url(sid);
  // Stored once the bridge is over: `completed` is the status this verb reports (not `in-progress`).
  const callback = recordingStatusCallbackOf(verb);
  await sendRecordingStatus(ctx, callback, sid, "completed", {
    AccountSid: ctx.call.accountSid,
    CallSid: ctx.call.callSid,
    RecordingUrl: url,
    RecordingDuration: seconds,
    RecordingChannels: verb.record.endsWith("-dual") ? "2" : "1",
    RecordingStartTime: rfc2822(bridgedAt),
    RecordingSource: "DialVerb",
    ErrorCode: "0",
  });
  return { RecordingUrl: url, RecordingSid: sid, RecordingDuration: seconds };
}
