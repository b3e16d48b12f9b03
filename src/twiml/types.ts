// The typed form of a TwiML document, and the narrow interface a verb is given to run.
// The call machine imports these types only; parsing and executing live beside them.
import type { Clock } from "../clock/clock.js";
import type { CallStatus } from "../model/records.js";
import type { ConferencePort, FetchedTwiml, QueuePort } from "./rooms.js";
import type { DialNetwork, DialVerb } from "./verbs/dial/types.js";
import type { RecordedAudio, RecordingPort, RecordOptions, RecordVerb } from "./verbs/record/types.js";

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
  /** Absolute URL, resolved against the document URL; "" for a digits-only `<Play digits="…"/>`. */
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
  /** Requested with each unstable speech result while the caller speaks (its answer is ignored). */
  readonly partialResultCallback?: string;
  readonly partialResultCallbackMethod?: HttpMethod;
  /** Nested Say, Play and Pause, played while listening; the caller's first input stops them. */
  readonly prompts: readonly (SayVerb | PlayVerb | PauseVerb)[];
}

/** Which side of the call a Media Stream carries (Twilio's `track` attribute). */
export type StreamTrack = "inbound_track" | "outbound_track" | "both_tracks";

/** `<Stream>`, the noun of `<Connect>` and `<Start>`: a Media Streams WebSocket. */
export interface StreamNoun {
  /** Absolute ws: or wss: URL. */
  readonly url: string;
  /** Unique within the call; `<Stop><Stream name>` stops it. */
  readonly name?: string;
  readonly track: StreamTrack;
  readonly statusCallback?: string;
  readonly statusCallbackMethod: HttpMethod;
  /** `<Parameter name value>` children, sent in the start message's customParameters. */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface ConnectVerb {
  readonly name: "Connect";
  /** Requested once the stream has ended; without it the next verb runs. */
  readonly action?: string;
  readonly method: HttpMethod;
  readonly stream: StreamNoun;
}

export interface StartVerb {
  readonly name: "Start";
  readonly streams: readonly StreamNoun[];
}

export interface StopVerb {
  readonly name: "Stop";
  /** The streams to stop, by name (undefined: every stream the call started). */
  readonly streams: readonly { readonly name?: string }[];
}

export interface ReferVerb {
  readonly name: "Refer";
  /** The `<Sip>` noun's URI: where the SIP endpoint is asked to transfer the call. */
  readonly target: string;
  readonly action?: string;
  readonly method: HttpMethod;
}

export interface SmsVerb {
  readonly name: "Sms";
  readonly body: string;
  /** As written; the caller when absent (inbound call). */
  readonly to?: string;
  /** As written; the called number when absent (inbound call). */
  readonly from?: string;
  readonly action?: string;
  readonly method: HttpMethod;
  readonly statusCallback?: string;
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
  | RecordVerb
  | ConnectVerb
  | StartVerb
  | StopVerb
  | ReferVerb
  | SmsVerb
  | DialVerb
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
  /** Called with the words recognised so far, each time more arrive (partialResultCallback). */
  readonly onPartialSpeech?: (text: string) => void;
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
  /**
   * Records the caller until a key, silence, the maximum length or hang-up, which resolves (not
   * rejects) with digits "hangup". Any other cancellation resolves with what was recorded, which the
   * verb discards (the call was redirected or another worker carries it on).
   */
  record(options: RecordOptions, signal: AbortSignal): Promise<RecordedAudio>;
  hangup(): Promise<void>;
  reject(reason: RejectVerb["reason"]): Promise<void>;
  /**
   * The caller is bridged to a dialed leg (`.out` shows `dial`) until `signal` aborts. Resolves when
   * the caller presses `*` and `hangupOnStar` is set; otherwise it only ends by the signal.
   */
  bridge(leg: { callSid: string; to: string; hangupOnStar: boolean }, signal: AbortSignal): Promise<void>;
}

/** Who the call is: what a verb needs for its callbacks' parameters and for child legs. */
export interface CallIdentity {
  readonly callSid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly direction: string;
  readonly region: string;
  /** "sip" for a call that came in over SIP (it carries SIP headers or a sip: caller): only those can be referred. */
  readonly transport: "pstn" | "sip";
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

/**
 * The call's Media Streams (a port, one per live call): the region keeps the WebSockets open across
 * verbs and closes them when the call ends.
 */
export interface MediaStreams {
  /**
   * Opens a bidirectional stream (`<Connect><Stream>`) and resolves when the server closes it;
   * rejects with a SwitchboardError (31920…) when it cannot open, or with the signal's reason.
   */
  connect(stream: StreamNoun, signal: AbortSignal): Promise<void>;
  /** Opens a unidirectional stream that runs until stopped or the call ends; resolves once it is open. */
  start(stream: StreamNoun): Promise<void>;
  /** Stops the call's running stream of that name (every one when `name` is undefined). */
  stop(name: string | undefined): Promise<void>;
}

// <Dial>'s verb, noun and network types live beside it; re-exported here for every user of types.ts.
export type * from "./verbs/dial/types.js";
export type * from "./verbs/record/types.js";

/** All a verb may touch while it runs: never the whole call. */
export interface VerbContext {
  readonly channel: Channel;
  readonly streams: MediaStreams;
  readonly clock: Clock;
  readonly call: CallIdentity;
  /** Reports a warning (e.g. 13510) against the call; the verb carries on. */
  warn(code: number, message: string): void;
  /**
   * The parameters every request about the call carries (CallSid, From, To, CallStatus, the SIP and
   * geographic ones…), for a request a verb sends itself, such as an action sent after a hang-up.
   */
  callParams(callStatus: CallStatus): Record<string, string>;
  /**
   * Queues a signed callback in the region's durable outbox; resolves once it is stored, not sent
   * (a callback never holds the call up; a failed one is a 15003 warning on the call).
   */
  callback(request: VerbCallbackRequest): Promise<void>;
  readonly recordings: RecordingPort;
  /** Child legs and the network they ring on (<Dial>). */
  readonly legs: DialNetwork;
  /** Answers the call now unless it is answered already (a <Dial answerOnBridge> when it bridges). */
  answer(): Promise<void>;
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
