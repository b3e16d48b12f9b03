// The TwiML verbs as data, and what a verb asks the call to do next: all the pure call machine knows
// of TwiML. Types only; no port (what a verb may ask of the call) is declared or reached from here.
import type { HttpMethod } from "../model/http.js";
import type { DialVerb } from "./verbs/dial/data.js";
import type { RecordVerb } from "./verbs/record/data.js";

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
  /** Only `false` is kept: the prompts play on through the caller's input. */
  readonly bargeIn?: false;
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
  /** The URL answered with audio, not TwiML: `verbs` plays it, then hangs up. */
  readonly audio?: true;
}

/** What a verb asks the call to do once it has run: the machine acts on it. */
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
