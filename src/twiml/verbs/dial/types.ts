// The typed <Dial>, its ringing nouns, and the port (DialNetwork on VerbContext) through which it
// reaches child legs. Types only; src/twiml/types.ts re-exports them.
import type { HttpMethod } from "../../types.js";
import type { ConferenceNoun } from "./conference.js";
import type { DialCallStatus } from "./noun.js";
import type { QueueNoun } from "./queue.js";

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
  readonly ringTone?: string;
  readonly trim: "trim-silence" | "do-not-trim";
  readonly recordingStatusCallback?: string;
  readonly nouns: readonly DialNounSpec[];
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
