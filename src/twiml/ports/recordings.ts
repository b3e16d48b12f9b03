// The RecordingPort: where <Record>'s and <Dial record>'s recordings are stored (the region's
// object store and its REST resources).
import type { RecordedAudio } from "./channel.js";

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
  readonly source?: "RecordVerb" | "DialVerb" | "OutboundAPI" | "Conference";
  /** A conference's recording: its ConferenceSid. */
  readonly conferenceSid?: string;
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
