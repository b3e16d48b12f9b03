// The typed form of a TwiML document, and the narrow interface a verb is given to run.
// The call machine imports these types only; parsing and executing live beside them.
import type { Clock } from "../clock/clock.js";
import type { DialCallStatus } from "./verbs/dial/noun.js";

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

/**
 * The nouns a <Dial> may hold. Conference and Queue (their own files beside dial.ts) join this union
 * with their types; dial.ts finds each noun's definition in its table by `noun`.
 */
export type DialNounSpec = NumberNoun | ClientNoun | SipNoun;

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
  readonly ringTone?: string;
  readonly trim: "trim-silence" | "do-not-trim";
  readonly recordingStatusCallback?: string;
  readonly nouns: readonly DialNounSpec[];
}

export type Verb =
  | SayVerb
  | PlayVerb
  | PauseVerb
  | HangupVerb
  | RejectVerb
  | RedirectVerb
  | GatherVerb
  | DialVerb;
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
  /** Child legs and the network they ring on (<Dial>). */
  readonly legs: DialNetwork;
  /** Answers the call now unless it is answered already (a <Dial answerOnBridge> when it bridges). */
  answer(): Promise<void>;
}

/** One target a <Dial> rings: a child leg to a number, a client or a SIP URI. */
export interface DialTarget {
  /** What the child leg's To is: `+1555…`, `client:alice`, `sip:bob@example.com`. */
  readonly to: string;
  readonly whisper?: { readonly url: string; readonly method: HttpMethod };
  /** Keys played to the callee once it answers. */
  readonly sendDigits?: string;
}

/** A leg's progress, with the parameters Twilio sends for it (the child's CallSid, ParentCallSid…). */
export interface LegProgress {
  /** Index of the target in the list given to `ring`. */
  readonly target: number;
  readonly event: LegEvent;
  readonly callSid: string;
  readonly params: Readonly<Record<string, string>>;
}

/** How a Dial's ringing ended when nobody was bridged. */
export interface Unanswered {
  readonly answered: false;
  readonly status: Exclude<DialCallStatus, "completed" | "answered">;
  /** The leg the status is about (DialCallSid), when a leg was made. */
  readonly callSid?: string;
}

/** The leg that answered first and is bridged to the caller. */
export interface BridgedLeg {
  readonly answered: true;
  readonly callSid: string;
  readonly to: string;
  /** Resolves when the callee hangs up (its side of the bridge ends). */
  readonly ended: Promise<void>;
  /** Ends the leg from the caller's side (Dial timeLimit, `*`, the caller hung up); idempotent. */
  hangup(): Promise<void>;
  /** Seconds the leg has been connected, so far or in all once it ended (DialCallDuration). */
  durationS(): number;
}

/**
 * The port <Dial> reaches child legs through. The region implements it: a hosted number becomes a
 * real inbound call; anything else is answered by the simulated network as the caller's script says.
 */
export interface DialNetwork {
  /**
   * Rings every target at once, each as a child Call; the first to answer (after its whisper) wins
   * and the others end `canceled`. Resolves with the bridged leg, or how the ringing ended. When
   * `signal` aborts, legs still ringing end `canceled`.
   */
  ring(
    targets: readonly DialTarget[],
    options: { timeoutS: number; callerId: string; onProgress: (p: LegProgress) => void },
    signal: AbortSignal,
  ): Promise<BridgedLeg | Unanswered>;
}
