// Recordings as the region stores them in object store `sb_recordings_<r>` (docs/rest-api.md):
// the object's name is the RecordingSid, its data the WAV, and its per-object metadata the
// recording's facts. `putRecording` is the writer the Record verb (and tests) use.
import type { ObjectInfo, ObjectStore } from "@nats-io/obj";
import { rfc2822 } from "../model/dates.js";

export interface RecordingFacts {
  sid: string;
  accountSid: string;
  callSid: string;
  /** Seconds, as Twilio gives durations. */
  duration: number;
  startTime: number;
  channels?: number;
  source?: string;
  conferenceSid?: string | null;
  /** The recording's transcription (`<Record transcribe="true">`), kept with it. */
  transcription?: RecordingTranscription | null;
}

export interface RecordingTranscription {
  sid: string;
  status: "completed" | "failed";
  text: string;
}

/** A recording's facts as they read back from the store (null when the object is not one). */
export interface StoredRecording extends Required<RecordingFacts> {
  dateCreated: number;
  size: number;
}

export async function putRecording(os: ObjectStore, facts: RecordingFacts, wav: Uint8Array): Promise<void> {
  await os.putBlob(
    {
      name: facts.sid,
      description: `recording of ${facts.callSid}`,
      metadata: {
        account_sid: facts.accountSid,
        call_sid: facts.callSid,
        duration: String(Math.round(facts.duration)),
        start_time: new Date(facts.startTime).toISOString(),
        // The object's mtime moves when its metadata is updated (a transcription deleted).
        date_created: new Date().toISOString(),
        channels: String(facts.channels ?? 1),
        source: facts.source ?? "RecordVerb",
        ...(facts.conferenceSid && { conference_sid: facts.conferenceSid }),
        // Header values cannot hold every character a caller may say: the text is URI-encoded.
        ...(facts.transcription && {
          transcription_sid: facts.transcription.sid,
          transcription_status: facts.transcription.status,
          transcription_text: encodeURIComponent(facts.transcription.text),
        }),
      },
    },
    wav,
  );
}

/** Removes a recording's transcription (DELETE …/Transcriptions/{Sid}), keeping the recording. */
export async function dropTranscription(os: ObjectStore, info: ObjectInfo): Promise<void> {
  const metadata = { ...(info.metadata ?? {}) };
  // The creation time moves into the metadata, since updating it moves the object's mtime.
  metadata.date_created ??= info.mtime;
  delete metadata.transcription_sid;
  delete metadata.transcription_status;
  delete metadata.transcription_text;
  await os.update(info.name, { description: info.description, options: info.options, metadata });
}

export function recordingFromInfo(info: ObjectInfo): StoredRecording | null {
  const m = info.metadata ?? {};
  if (info.deleted || !/^RE[0-9a-fA-F]{32}$/.test(info.name) || !m.account_sid || !m.call_sid) return null;
  const startTime = Date.parse(m.start_time ?? info.mtime);
  return {
    sid: info.name,
    accountSid: m.account_sid,
    callSid: m.call_sid,
    duration: Number(m.duration ?? 0),
    startTime: Number.isNaN(startTime) ? Date.parse(info.mtime) : startTime,
    channels: Number(m.channels ?? 1),
    source: m.source ?? "RecordVerb",
    conferenceSid: m.conference_sid ?? null,
    transcription: m.transcription_sid
      ? {
          sid: m.transcription_sid,
          status: m.transcription_status === "completed" ? "completed" : "failed",
          text: decodeURIComponent(m.transcription_text ?? ""),
        }
      : null,
    dateCreated: Date.parse(m.date_created ?? info.mtime),
    size: info.size,
  };
}

/** The fields both of Twilio's recording shapes (account and call) have in common. */
function recordingFields(r: StoredRecording): Record<string, unknown> {
  return {
    account_sid: r.accountSid,
    api_version: "2010-04-01",
    call_sid: r.callSid,
    conference_sid: r.conferenceSid,
    date_created: rfc2822(r.dateCreated),
    date_updated: rfc2822(r.dateCreated),
    start_time: rfc2822(r.startTime),
    duration: String(r.duration),
    sid: r.sid,
    price: null,
  };
}

/** Twilio's Recording resource (api.v2010.account.recording); `base` is the api's own origin. */
export function recordingResource(r: StoredRecording, base: string): Record<string, unknown> {
  const path = `/2010-04-01/Accounts/${r.accountSid}/Recordings/${r.sid}`;
  return {
    ...recordingFields(r),
    price_unit: "USD",
    status: "completed",
    channels: r.channels,
    source: r.source,
    error_code: null,
    uri: `${path}.json`,
    encryption_details: null,
    subresource_uris: {
      add_on_results: `${path}/AddOnResults.json`,
      transcriptions: `${path}/Transcriptions.json`,
    },
    media_url: `${base}${path}`,
  };
}

/** A Recording as a call's or a conference's subresource: the same fields under its own `uri`. */
function subresourceRecording(r: StoredRecording, uri: string): Record<string, unknown> {
  return {
    ...recordingFields(r),
    uri,
    encryption_details: null,
    price_unit: "USD",
    status: "completed",
    channels: r.channels,
    source: r.source,
    error_code: null,
  };
}

/** Twilio's call Recording resource (api.v2010.account.call.call_recording). */
export function callRecordingResource(r: StoredRecording): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${r.accountSid}/Calls/${r.callSid}/Recordings/${r.sid}.json`;
  return { ...subresourceRecording(r, uri), track: "both" };
}

/** Twilio's conference Recording resource (api.v2010.account.conference.conference_recording). */
export function conferenceRecordingResource(r: StoredRecording): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${r.accountSid}/Conferences/${r.conferenceSid}/Recordings/${r.sid}.json`;
  return subresourceRecording(r, uri);
}
