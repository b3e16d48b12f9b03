// <Record>'s types: the verb, what the channel records, and the port its recordings are stored
// through. Re-exported by types.ts for every user of the TwiML types.
import type { HttpMethod } from "../../types.js";

export type RecordingStatusEvent = "in-progress" | "completed" | "absent";

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

export interface RecordOptions {
  /** Silence that ends the recording, in ms (Twilio's `timeout`; 0: silence never ends it). */
  readonly timeoutMs: number;
  /** The longest recording, in ms (Twilio's `maxLength`). */
  readonly maxLengthMs: number;
  /** Keys that end the recording ("" for none). */
  readonly finishOnKey: string;
  readonly playBeep: boolean;
  /** Leading and trailing silence is cut (Twilio's `trim="trim-silence"`). */
  readonly trimSilence: boolean;
}

/** What the caller sent while recording. */
export interface RecordedAudio {
  /** A WAV file of the caller's audio (8 kHz mono). */
  readonly wav: Uint8Array;
  readonly durationMs: number;
  /** The key that ended it, "hangup" when the caller hung up, "" for silence or the maximum length. */
  readonly digits: string;
  /** What the caller said, when the channel knows (the simulated caller's script). */
  readonly transcript?: string;
}

/** A finished recording for the region to keep. */
export interface NewRecording {
  /** `RE…`, chosen by the verb so its callbacks can name it before it is stored. */
  readonly sid: string;
  /** When recording began (call clock, ms since the epoch). */
  readonly startTime: number;
  readonly audio: RecordedAudio;
  /** Also make a Transcription of it (the text is the channel's transcript). */
  readonly transcribe: boolean;
  /** What made it (Twilio's `source`): RecordVerb unless said. */
  readonly source?: "RecordVerb" | "DialVerb";
  readonly channels?: 1 | 2;
}

export interface StoredTranscription {
  readonly sid: string;
  readonly url: string;
  readonly status: "completed" | "failed";
  readonly text: string;
}

/** Where a verb's recordings go: the region's object store and its REST resources. */
export interface RecordingPort {
  /** The recording's RecordingUrl (the REST media URL, no extension), known before it is stored. */
  url(recordingSid: string): string;
  /** Stores the WAV and its Recording resource (and the Transcription); resolves once stored. */
  store(recording: NewRecording): Promise<{ readonly transcription?: StoredTranscription }>;
  /**
   * Work that must finish even when the verb is cancelled (a hang-up mid-recording still stores it
   * and requests the action): the call's end waits for it, bounded.
   */
  keep(work: Promise<unknown>): void;
}
