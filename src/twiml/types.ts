// The typed form of a TwiML document, and the narrow interface a verb is given to run.
// The call machine imports these types only; parsing and executing live beside them.
import type { Clock } from "../clock/clock.js";

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

export type Verb = SayVerb | PlayVerb | PauseVerb | HangupVerb | RejectVerb | RedirectVerb;
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
  hangup(): Promise<void>;
  reject(reason: RejectVerb["reason"]): Promise<void>;
}

/** All a verb may touch while it runs: never the whole call. */
export interface VerbContext {
  readonly channel: Channel;
  readonly clock: Clock;
  /** Reports a warning (e.g. 13510) against the call; the verb carries on. */
  warn(code: number, message: string): void;
}
