// The typed form of a TwiML document, and the narrow interface a verb is given to run.
// The call machine imports these types only; parsing and executing live beside them.
import type { Clock } from "../clock/clock.js";
import type { ConferencePort, FetchedTwiml, QueuePort } from "./rooms.js";

export type HttpMethod = "GET" | "POST";

export interface SayVerb {
  readonly name: "Say";
  readonly text: string;
  readonly voice: string;
  readonly language: string;
  /** Times to speak; 0 means "until hang-up", which Twilio caps at 1000. */
  readonly loop: number;
}

export interface PlayVerb {
  readonly name: "Play";
  /** Absolute URL, resolved against the document URL. */
  readonly url: string;
  readonly loop: number;
  readonly digits?: string;
}

export interface PauseVerb {
  readonly name: "Pause";
  /** Seconds. */
  readonly length: number;
}

export interface HangupVerb {
  readonly name: "Hangup";
}

export interface RejectVerb {
  readonly name: "Reject";
  readonly reason: "rejected" | "busy";
}

export interface RedirectVerb {
  readonly name: "Redirect";
  /** Absolute URL, resolved against the document URL. */
  readonly url: string;
  readonly method: HttpMethod;
}

export type GatherInput = "dtmf" | "speech";

export interface GatherVerb {
  readonly name: "Gather";
  /** Absolute; Twilio's default is the current document's URL. */
  readonly action: string;
  readonly method: HttpMethod;
  readonly input: readonly GatherInput[];
  /** Seconds of silence after the prompts (or the last key) before the Gather ends. */
  readonly timeout: number;
  /** Seconds of silence that end speech; "auto" lets the recogniser decide. */
  readonly speechTimeout: number | "auto";
  /** The key that submits the digits ("" for none). */
  readonly finishOnKey: string;
  readonly numDigits?: number;
  readonly actionOnEmptyResult: boolean;
  readonly language: string;
  readonly hints?: string;
  /** Nested Say, Play and Pause, played while listening; the caller's first input stops them. */
  readonly prompts: readonly (SayVerb | PlayVerb | PauseVerb)[];
}

export interface EnqueueVerb {
  readonly name: "Enqueue";
  /** The queue's FriendlyName (the body). */
  readonly queue: string;
  /** Absolute; requested with QueueResult when the caller leaves the queue (none: next verb). */
  readonly action?: string;
  readonly method: HttpMethod;
  /** Absolute; undefined for Twilio's default hold music, "" for silence. */
  readonly waitUrl: string | undefined;
  readonly waitUrlMethod: HttpMethod;
  /** The size a queue made by this Enqueue gets (twilio-node's maxQueueSize; default 1000). */
  readonly maxQueueSize?: number;
}

/** Leaves the queue: meaningful only in an Enqueue's waitUrl document. */
export interface LeaveVerb {
  readonly name: "Leave";
}

export type Verb =
  | SayVerb
  | PlayVerb
  | PauseVerb
  | HangupVerb
  | RejectVerb
  | RedirectVerb
  | GatherVerb
  | EnqueueVerb
  | LeaveVerb;
export type VerbName = Verb["name"];

/** A 12200-style warning found while reading a document: the call carries on. */
export interface TwimlWarning {
  readonly code: number;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export interface TwimlDocument {
  readonly verbs: readonly Verb[];
  readonly warnings: readonly TwimlWarning[];
}

/** What a verb asks the call to do once it has run. */
export type VerbOutcome =
  | { readonly kind: "next" }
  | { readonly kind: "hangup" }
  | { readonly kind: "reject"; readonly reason: RejectVerb["reason"] }
  /** Request a new document (Redirect, or an action URL) with these extra parameters. */
  | {
      readonly kind: "fetch";
      readonly url: string;
      readonly method: HttpMethod;
      readonly params?: Readonly<Record<string, string>>;
    };

/** What the caller gave a Gather. */
export interface CallerInput {
  /** Keys pressed, without the finishing key. */
  readonly digits: string;
  readonly speech?: { readonly text: string; readonly confidence: number };
}

export interface ListenOptions {
  readonly input: readonly GatherInput[];
  readonly finishOnKey: string;
  readonly numDigits?: number;
  readonly timeoutMs: number;
  readonly speechTimeoutMs: number;
}

/** Listening for one Gather's input. */
export interface InputListener {
  /** Resolves when the caller's first key or word arrives (barge-in stops the prompts then). */
  readonly started: Promise<void>;
  /** The prompts are over (or were interrupted): the timeout runs from now. Resolves with the input. */
  result(): Promise<CallerInput>;
  /** Stops listening (the Gather ended or was cancelled). */
  close(): void;
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

/**
 * The call's audio side: a port. The built-in implementation is the simulated channel over NATS;
 * a SIP/RTP gateway is another. Each method resolves when the audio has finished (in the clock's
 * time) and rejects with the signal's reason when the verb is cancelled (e.g. the caller hung up).
 */
export interface Channel {
  /** The call has reached its region and is ringing (SIP: 180 Ringing). */
  ring(): Promise<void>;
  answer(): Promise<void>;
  say(text: string, options: { voice: string; language: string }, signal: AbortSignal): Promise<void>;
  play(url: string, options: { digits?: string }, signal: AbortSignal): Promise<void>;
  pause(seconds: number, signal: AbortSignal): Promise<void>;
  /** Starts listening for keys and/or speech, before the Gather's prompts play. */
  listen(options: ListenOptions, signal: AbortSignal): InputListener;
  /** Records the caller until a key, silence, the maximum length or hang-up (which resolves, not rejects). */
  record(options: RecordOptions, signal: AbortSignal): Promise<RecordedAudio>;
  hangup(): Promise<void>;
  reject(reason: RejectVerb["reason"]): Promise<void>;
}

/** Who the call is: what a verb needs for its callbacks' parameters and for child legs. */
export interface CallIdentity {
  readonly callSid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly direction: string;
  readonly region: string;
}

/** An asynchronous request a verb makes (recordingStatusCallback, a Dial's statusCallback…). */
export interface VerbCallbackRequest {
  readonly url: string;
  readonly method: HttpMethod;
  /** Sent as given: the verb chooses Twilio's parameters for its callback. */
  readonly params: Readonly<Record<string, string>>;
  /** Names the request within the call; a request queued again with the same key is sent once. */
  readonly key: string;
}

/** All a verb may touch while it runs: never the whole call. */
export interface VerbContext {
  readonly channel: Channel;
  readonly clock: Clock;
  readonly call: CallIdentity;
  /** Reports a warning (e.g. 13510) against the call; the verb carries on. */
  warn(code: number, message: string): void;
  /**
   * Queues a signed callback in the region's durable outbox; resolves once it is stored, not sent
   * (a callback never holds the call up; a failed one is a 15003 warning on the call).
   */
  callback(request: VerbCallbackRequest): Promise<void>;
  /**
   * Requests TwiML for the verb's own use (a waitUrl, a Queue noun's url), signed like the call's
   * webhooks, with the call's parameters plus `params`; a parse warning is reported on the call.
   */
  fetchTwiml?(
    url: string,
    method: HttpMethod,
    params: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<FetchedTwiml>;
  /** The region's conferences (optional: only the region worker provides them). */
  readonly conferences?: ConferencePort;
  /** The region's queues (optional: only the region worker provides them). */
  readonly queues?: QueuePort;
}
