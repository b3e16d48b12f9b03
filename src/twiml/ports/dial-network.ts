// The DialNetwork port: how <Dial> rings child legs and learns which answered. The region
// implements it (src/region/dial/).
import type { HttpMethod } from "../../model/http.js";
import type { DialCallStatus, LegEvent } from "../verbs/dial/data.js";

/** One target a <Dial> rings: a child leg to a number, a client or a SIP URI. */
export interface DialTarget {
  /** What the child leg's To is: `+1555…`, `client:alice`, `sip:bob@example.com`. */
  readonly to: string;
  readonly whisper?: { readonly url: string; readonly method: HttpMethod };
  /** Keys played to the callee once it answers. */
  readonly sendDigits?: string;
  /** Digest credentials for a <Sip> URI's challenge (its `username`/`password`). */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** A leg's progress, with the parameters Twilio sends for it (the child's CallSid, ParentCallSid…). */
export interface LegProgress {
  /** Index of the target in the list given to `ring`. */
  readonly target: number;
  readonly event: LegEvent;
  readonly callSid: string;
  readonly params: Readonly<Record<string, string>>;
}

/** How a leg placed over SIP ended its INVITE: a <Sip>'s action gets it as DialSip* parameters. */
export interface SipOutcome {
  /** The final response's status (DialSipResponseCode): 200 when answered, 486 busy… */
  readonly code: number;
  /** The leg's SIP Call-ID (DialSipCallId). */
  readonly callId?: string;
  /** The X- headers of the callee's final response, canonical names (DialSipHeader_X-Foo). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** How a Dial's ringing ended when nobody was bridged. */
export interface Unanswered {
  readonly answered: false;
  readonly status: Exclude<DialCallStatus, "completed" | "answered">;
  /** The leg the status is about (DialCallSid), when a leg was made. */
  readonly callSid?: string;
  /** The final response of a leg placed over SIP (DialSip* on a <Sip>'s action). */
  readonly sip?: SipOutcome;
}

/** The leg that answered first and is bridged to the caller. */
export interface BridgedLeg {
  readonly answered: true;
  readonly callSid: string;
  readonly to: string;
  /**
   * The leg is a call on the caller's own SIP gateway, which can bridge their audio. Absent for the
   * simulated network and a hosted number's call: there is no audio of theirs to join.
   */
  readonly onGateway?: true;
  /** Resolves when the callee hangs up (its side of the bridge ends). */
  readonly ended: Promise<void>;
  /** Ends the leg from the caller's side (Dial timeLimit, `*`, the caller hung up); idempotent. */
  hangup(): Promise<void>;
  /**
   * The call moved to another worker, which takes the leg back (a SIP leg, a hosted number's call):
   * stops listening to it and leaves it up, its record unwritten. A leg without it is hung up.
   */
  release?(): void;
  /** Seconds the leg has been connected, so far or in all once it ended (DialCallDuration). */
  durationS(): number;
  /** The 2xx of a leg placed over SIP (DialSip* on a <Sip>'s action). */
  readonly sip?: SipOutcome;
  /**
   * How long the caller was bridged to it already: a leg a resumed call took back. The Dial's
   * timeLimit counts that time too.
   */
  readonly bridgedMs?: number;
}

/** A leg's status callback as its noun gave it. */
export interface LegCallback {
  url: string;
  method: HttpMethod;
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
    options: {
      timeoutS: number;
      callerId: string;
      onProgress: (p: LegProgress) => void;
      /** What the caller hears while the legs ring (Twilio's `ringTone`), where the network plays one. */
      ringTone?: string;
      /**
       * Where target `i`'s `completed` status callback goes, when its noun asked for one: kept with
       * the leg, so that a worker that resumes the call and ends the leg can still send it.
       */
      completedCallback?: (target: number) => LegCallback | undefined;
      /**
       * Whether target `i`'s noun asked for `event`'s status callback (every event, when absent): a
       * leg numbers only the callbacks sent, so the first one an app gets is SequenceNumber 0.
       */
      reports?: (target: number, event: LegEvent) => boolean;
    },
    signal: AbortSignal,
  ): Promise<BridgedLeg | Unanswered>;
  /**
   * Whether the call's account may show `callerId` to the parties it rings: any value that is not a
   * phone number (a client or SIP identity); a number only if it is the call's From or To, one of
   * the account's numbers, or one of its verified caller IDs.
   */
  callerIdAllowed(callerId: string): Promise<boolean>;
  /**
   * Whom the legs kept from before a resume were ringing or bridged to (`to`), without taking them:
   * a sequential Dial goes on from there. None on a call that was not resumed mid-Dial.
   */
  keptTargets?(): readonly string[];
}
