// REST `Record=true` on an outbound call: the call, from its answer to its end, kept as a Recording
// (source OutboundAPI) in the region's object store, and its RecordingStatusCallback told `completed`.
// A call through a trunk (a SIP leg) is recorded by its gateway, which holds its real audio; the
// simulated network carries none, so its WAV holds the call's length of tone, as a Dial's does.
import { createHash } from "node:crypto";
import type { EndInput } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { encodeWav } from "../../media/wav.js";
import { rfc2822 } from "../../model/dates.js";
import type { RecordedAudio } from "../../twiml/ports/channel.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

/**
 * The call's Recording sid, named by the call: a resumed call that ends again stores (and announces)
 * the same recording, and the gateway that places its leg keeps the audio under it (`record.id`).
 */
export function outboundRecordingSid(callSid: string): string {
  return `RE${createHash("sha256").update(`${callSid}.record`).digest("hex").slice(0, 32)}`;
}

/** Stores the recording of an answered outbound call that asked for one; resolves once it is stored. */
export async function recordOutboundCall(
  rt: Pick<RegionRuntime, "outbox" | "log">,
  call: LiveCall,
  end: EndInput,
  endedAt: number,
): Promise<void> {
  const record = call.outbound?.record;
  const accountSid = end.facts.accountSid;
  if (!record || end.answeredAt === null || !accountSid) return;
  const { facts } = end;
  const sid = outboundRecordingSid(facts.callSid);
  const audio = await callAudio(rt, call, sid, accountSid, Math.max(0, endedAt - end.answeredAt));
  if (!audio) return;
  const durationS = Math.round(audio.durationMs / 1000);
  if (durationS <= 0) return;
  const port = rt.outbox.recordings.port(
    {
      callSid: facts.callSid,
      accountSid,
      from: facts.from,
      to: facts.to,
      direction: facts.direction,
      region: facts.region,
      transport: "pstn",
    },
    (work) => call.clock.holding(work),
  );
  await port.store({
    sid,
    startTime: end.answeredAt,
    audio,
    transcribe: false,
    source: "OutboundAPI",
    channels: record.channels,
  });
  if (!record.statusCallback) return;
  const callback = {
    facts,
    url: record.statusCallback.url,
    method: record.statusCallback.method,
    key: `${sid}.completed`,
    params: {
      AccountSid: accountSid,
      CallSid: facts.callSid,
      RecordingSid: sid,
      RecordingUrl: port.url(sid),
      RecordingStatus: "completed",
      RecordingDuration: String(durationS),
      RecordingChannels: String(record.channels),
      RecordingStartTime: rfc2822(end.answeredAt),
      RecordingSource: "OutboundAPI",
      ErrorCode: "0",
    },
  };
  await call.clock.holding(() => rt.outbox.statusCallbacks.queue(callback));
}

/**
 * The call's audio: its gateway's recording for a SIP leg (fetched once the call is over there), or a
 * tone of its length on the simulated network. A gateway lost with the call took its recording too:
 * none is stored, with a warning (no tone in its place, which would pass for the call's audio).
 */
async function callAudio(
  rt: Pick<RegionRuntime, "outbox" | "log">,
  call: LiveCall,
  sid: string,
  accountSid: string,
  lengthMs: number,
): Promise<RecordedAudio | undefined> {
  if (!call.leg)
    return { wav: encodeWav([{ ms: lengthMs, speech: true }]), durationMs: lengthMs, digits: "" };
  const { callSid } = call;
  try {
    if (!call.channel.callRecording) throw new Error("its channel carries no audio");
    return await call.channel.callRecording(sid);
  } catch (err) {
    rt.log.warn(
      { err, callSid, gateway: call.leg.gateway },
      "the call's recording is not on its SIP gateway",
    );
    rt.outbox.notifier.notify({
      accountSid,
      callSid,
      level: "warning",
      code: ErrorCodes.sipCallGone.code,
      message: `Record=true: the recording of the call was lost with SIP gateway ${call.leg.gateway} (${String(err)})`,
    });
    return undefined;
  }
}
