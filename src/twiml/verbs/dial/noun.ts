// What <Dial> hands each of its nouns, and what a noun gives back: the contract between the Dial
// verb and the nouns that live beside it (Number, Client, Sip ring a leg; Conference and Queue join
// a room). A noun reads only what it is given here and the VerbContext, never the Dial's state.
import type { TwimlElement } from "../../element.js";
import type { RecordedAudio } from "../../ports/channel.js";
import type { DialTarget } from "../../ports/dial-network.js";
import type { VerbContext } from "../../verb-context.js";
import type { ParseContext } from "../../verb-definition.js";
import type { DialCallStatus, LegNounOptions } from "./data.js";

/** The <Dial> attributes a noun needs to connect its leg. */
export interface DialOptions {
  /** Seconds to ring before giving up (no-answer). */
  readonly timeoutS: number;
  /** Longest bridge, in seconds (Twilio's default is 4 h). */
  readonly timeLimitS: number;
  /** The caller ID the child leg shows (defaults to the parent's From). */
  readonly callerId: string;
  /** The parent leaves the bridge when the caller presses *. */
  readonly hangupOnStar: boolean;
  /** Twilio's `record` value: do-not-record, record-from-answer, record-from-ringing, …-dual. */
  readonly record: string;
  readonly answerOnBridge: boolean;
  /** Ring the legs one after another, each for `timeoutS`, until one answers. */
  readonly sequential?: boolean;
  /** The tone the caller hears while the legs ring (Twilio's `ringTone`, a country code). */
  readonly ringTone?: string;
}

/** How one Dial ended, for its action request. */
export interface DialResult {
  readonly status: DialCallStatus;
  /** The child leg, when one was created (DialCallSid). */
  readonly callSid?: string;
  /** Seconds the bridge lasted (DialCallDuration). */
  readonly durationS: number;
  readonly bridged: boolean;
  /** More parameters the noun adds to the action request (e.g. QueueSid, QueueResult). */
  readonly params?: Readonly<Record<string, string>>;
  /** The Dial is skipped: no action request, the call goes on with the next verb (a taken participantLabel). */
  readonly skip?: boolean;
  /** The bridge's recording, from a channel with real audio (a SIP call) when `record` asked for it. */
  readonly audio?: RecordedAudio;
}

export interface DialNoun<N extends { readonly noun: string }> {
  readonly name: N["noun"];
  /** The typed noun, with defaults for bad attribute values; undefined (after a warning) to skip it. */
  parse(el: TwimlElement, ctx: ParseContext): N | undefined;
  /** Connects the caller to the noun's target; resolves when that leg ends or could not be made. */
  dial(ctx: VerbContext, noun: N, options: DialOptions, signal: AbortSignal): Promise<DialResult>;
  /**
   * Nouns that ring a leg (Number, Client, Sip) describe it here, so <Dial> can ring up to 10 at once
   * (first answer wins). Nouns without it (Conference, Queue) are connected by `dial`, one per Dial.
   */
  target?(noun: N): DialTarget & { readonly options: LegNounOptions };
}
