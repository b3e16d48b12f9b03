// <Dial> as data: the verb, its nouns (Number, Client, Sip ring a leg; Conference and Queue join a
// room) and the statuses its action reports. Types only, part of the verb data the machine sees.
import type { HttpMethod } from "../../../model/http.js";
import type { RecordingStatusCallback, RecordingStatusEvent } from "../record/data.js";

/** What a ringing noun (Number, Client, Sip) shares: its whisper URL and its leg's status callbacks. */
export interface LegNounOptions {
  /** TwiML run on the callee after it answers, before the bridge (whisper / screening). */
  readonly url?: string;
  readonly method: HttpMethod;
  readonly statusCallback?: string;
  readonly statusCallbackMethod: HttpMethod;
  /** Which of initiated, ringing, answered, completed are requested (default: completed). */
  readonly statusCallbackEvent: readonly LegEvent[];
}

export type LegEvent = "initiated" | "ringing" | "answered" | "completed";

export interface NumberNoun extends LegNounOptions {
  readonly noun: "Number";
  /** E.164 where it could be read so (unformatted US numbers are accepted, as on Twilio). */
  readonly number: string;
  readonly sendDigits?: string;
  readonly byoc?: string;
}

export interface ClientNoun extends LegNounOptions {
  readonly noun: "Client";
  readonly identity: string;
  /** `<Parameter name value>` children, passed to the client. */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface SipNoun extends LegNounOptions {
  readonly noun: "Sip";
  readonly uri: string;
  readonly username?: string;
  readonly password?: string;
}

/** The nouns a <Dial> may hold; dial.ts finds each noun's definition in its table by `noun`. */
export type DialNounSpec = NumberNoun | ClientNoun | SipNoun | ConferenceNoun | QueueNoun;

export interface DialVerb {
  readonly name: "Dial";
  /** Absolute; without one the call goes on to the next verb (unlike Gather and Record). */
  readonly action?: string;
  readonly method: HttpMethod;
  /** Seconds to ring before no-answer. */
  readonly timeout: number;
  /** Longest bridge, in seconds. */
  readonly timeLimit: number;
  readonly callerId?: string;
  readonly hangupOnStar: boolean;
  /** do-not-record, record-from-answer, record-from-ringing, and their -dual forms. */
  readonly record: string;
  readonly answerOnBridge: boolean;
  /** Ring the nouns one after another, each for `timeout` (Twilio's `sequential`); absent: together. */
  readonly sequential?: true;
  readonly ringTone?: string;
  readonly trim: "trim-silence" | "do-not-trim";
  readonly recordingStatusCallback?: string;
  /** Read with the callback; absent in a verb stored before they were read: POST, `completed`. */
  readonly recordingStatusCallbackMethod?: HttpMethod;
  readonly recordingStatusCallbackEvent?: readonly RecordingStatusEvent[];
  readonly nouns: readonly DialNounSpec[];
}

export interface ConferenceNoun {
  readonly noun: "Conference";
  readonly name: string;
  readonly muted: boolean;
  readonly beep: "true" | "false" | "onEnter" | "onExit";
  readonly startConferenceOnEnter: boolean;
  readonly endConferenceOnExit: boolean;
  /** Absolute; undefined for Twilio's default hold music, "" for silence. */
  readonly waitUrl: string | undefined;
  readonly waitMethod: HttpMethod;
  readonly maxParticipants: number;
  readonly record: "do-not-record" | "record-from-start";
  /** Where the conference's recording reports its statuses (the recording participant's noun). */
  readonly recordingStatusCallback?: RecordingStatusCallback;
  readonly trim: "trim-silence" | "do-not-trim";
  readonly statusCallback?: string;
  readonly statusCallbackMethod: HttpMethod;
  /** Twilio's event names (conference-start, participant-join, …), from the short names given. */
  readonly statusCallbackEvents: readonly string[];
  readonly coach?: string;
  readonly jitterBufferSize: string;
  readonly participantLabel?: string;
  readonly region?: string;
}

export interface QueueNoun {
  readonly noun: "Queue";
  /** The queue's FriendlyName. */
  readonly name: string;
  /** TwiML for the dequeued caller before the bridge (Play, Say, Pause, Redirect). */
  readonly url?: string;
  readonly method: HttpMethod;
}

/** DialCallStatus values (spec): what the Dial's action request reports. */
export type DialCallStatus = "completed" | "answered" | "busy" | "no-answer" | "failed" | "canceled";
