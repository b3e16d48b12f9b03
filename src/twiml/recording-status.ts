// recordingStatusCallback, as <Record> and <Conference record> send it: one request for each status
// the TwiML asked for (recordingStatusCallbackEvent; "completed" by default), through the call's
// durable outbox, keyed by the recording and its status so that a resumed call sends each one once.
import { ErrorCodes } from "../errors/codes.js";
import type { HttpMethod } from "../model/http.js";
import type { VerbContext } from "./verb-context.js";
import type { ParseContext } from "./verb-definition.js";
import type { RecordingStatusCallback, RecordingStatusEvent } from "./verbs/record/data.js";

const EVENTS: readonly RecordingStatusEvent[] = ["in-progress", "completed", "absent"];

/** recordingStatusCallbackEvent's value: the statuses named (unknown ones warned of, 13621), or "completed". */
export function recordingStatusEvents(
  raw: string | undefined,
  ctx: ParseContext,
  verb: string,
): RecordingStatusEvent[] {
  if (raw === undefined || raw.trim() === "") return ["completed"];
  const words = raw.trim().split(/[\s,]+/);
  const valid = words.filter((w): w is RecordingStatusEvent => EVENTS.includes(w as RecordingStatusEvent));
  if (valid.length < words.length) {
    ctx.warn(
      ErrorCodes.recordInvalidStatusCallbackEvent.code,
      `<${verb}> recordingStatusCallbackEvent="${raw}" has values other than ${EVENTS.join(", ")}`,
    );
  }
  return valid.length > 0 ? [...new Set(valid)] : ["completed"];
}

/** A verb's recordingStatusCallback attributes as one callback (none without a URL); POST and `completed` when unread. */
export function recordingStatusCallbackOf(verb: {
  readonly recordingStatusCallback?: string;
  readonly recordingStatusCallbackMethod?: HttpMethod;
  readonly recordingStatusCallbackEvent?: readonly RecordingStatusEvent[];
}): RecordingStatusCallback | undefined {
  if (!verb.recordingStatusCallback) return undefined;
  return {
    url: verb.recordingStatusCallback,
    method: verb.recordingStatusCallbackMethod ?? "POST",
    events: verb.recordingStatusCallbackEvent ?? ["completed"],
  };
}

/** Queues the recording's `status` request when one was asked for; `params` are Twilio's for the verb. */
export async function sendRecordingStatus(
  ctx: VerbContext,
  callback: RecordingStatusCallback | undefined,
  recordingSid: string,
  status: RecordingStatusEvent,
  params: Record<string, string>,
): Promise<void> {
  if (!callback?.events.includes(status)) return;
  await ctx.callback({
    url: callback.url,
    method: callback.method,
    key: `${recordingSid}.${status}`,
    params: { ...params, RecordingSid: recordingSid, RecordingStatus: status },
  });
}
