// REST `Record=true` on an outbound call: the call, from its answer to its end, kept as a Recording
// (source OutboundAPI) in the region's object store, and its RecordingStatusCallback told `completed`.
// The simulated network carries no audio, so the WAV holds the call's length of tone, as a Dial's does.
import { createHash } from "node:crypto";
import type { EndInput } from "../../../machines/call.machine.js";
import { encodeWav } from "../../media/wav.js";
import { rfc2822 } from "../../model/dates.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

/** Stores the recording of an answered outbound call that asked for one; resolves once it is stored. */
export async function recordOutboundCall(
  rt: Pick<RegionRuntime, "outbox">,
  call: LiveCall,
  end: EndInput,
  endedAt: number,
): Promise<void> {
  const record = call.outbound?.record;
  const accountSid = end.facts.accountSid;
  if (!record || end.answeredAt === null || !accountSid) return;
  const durationMs = Math.max(0, endedAt - end.answeredAt);
  const durationS = Math.round(durationMs / 1000);
  if (durationS <= 0) return;
  const { facts } = end;
  // Named by the call: a resumed call that ends again stores (and announces) the same recording.
  const sid = `RE${createHash("sha256").update(`${facts.callSid}.record`).digest("hex").slice(0, 32)}`;
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
    audio: { wav: encodeWav([{ ms: durationMs, speech: true }]), durationMs, digits: "" },
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
