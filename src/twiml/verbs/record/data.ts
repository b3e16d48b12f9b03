// <Record> as data: the verb and the recording status events it may request. Types only, part of
// the verb data the machine sees.
import type { HttpMethod } from "../../../model/http.js";

export type RecordingStatusEvent = "in-progress" | "completed" | "absent";

/** Where a recording's statuses go, and which of them (a <Conference record>'s). */
export interface RecordingStatusCallback {
  readonly url: string;
  readonly method: HttpMethod;
  readonly events: readonly RecordingStatusEvent[];
}

export interface RecordVerb {
  readonly name: "Record";
  /** Absolute; Twilio's default is the current document's URL. */
  readonly action: string;
  readonly method: HttpMethod;
  /** Seconds of silence that end the recording; 0: silence never does. */
  readonly timeout: number;
  /** Keys that end the recording, any of them ("" for none). */
  readonly finishOnKey: string;
  /** Seconds. */
  readonly maxLength: number;
  readonly playBeep: boolean;
  /** `trim="trim-silence"` (the default): leading and trailing silence is cut. */
  readonly trimSilence: boolean;
  readonly recordingStatusCallback?: string;
  readonly recordingStatusCallbackMethod: HttpMethod;
  readonly recordingStatusCallbackEvent: readonly RecordingStatusEvent[];
  readonly transcribe: boolean;
  readonly transcribeCallback?: string;
}
