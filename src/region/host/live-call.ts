// One call hosted by this worker: its actor and the per-call things its effects use.
import type { Actor } from "xstate";
import type { CallMachine } from "../../../machines/call.machine.js";
import type { CallClock } from "../../clock/call-clock.js";
import type { CallJob } from "../../protocol/call-job.js";
import type { CallerScript } from "../../protocol/offer.js";
import type { Channel } from "../../twiml/ports/channel.js";
import type { VerbContext } from "../../twiml/verb-context.js";
import type { CookieJar, SavedCookie } from "../../webhook/cookie-jar.js";
import type { ChannelState } from "../channel/simulated-channel.js";
import type { CallStreams } from "../streams/call-streams.js";
import type { SnapshotWriter } from "./snapshot-writer.js";

export interface LiveCall {
  readonly callSid: string;
  readonly actor: Actor<CallMachine>;
  readonly clock: CallClock;
  readonly channel: HostedChannel;
  /** Cookies the app set, returned on every later request of this call, as a browser would. */
  readonly cookies: CookieJar;
  readonly snapshots: SnapshotWriter;
  /**
   * The call's open Media Streams; closed when the call ends or leaves this worker. Made when a verb
   * first asks for them (most calls never open one) or when the call is closed.
   */
  streams?: CallStreams;
  /** When the edge accepted the call (wall clock), for date_created. */
  readonly offeredAt: number;
  /** The timer of the call's maximum duration, on its clock. */
  limit?: unknown;
  /** What its verbs are given, made when the first one runs. */
  verbContext?: VerbContext;
  /** The offer's simulated-caller script: how the parties a <Dial> rings answer (`callees`). */
  readonly caller?: CallerScript;
  /**
   * Set just before the actor is stopped to hand the call to another worker: the verb cancelled
   * then must not act as if the caller left (leave a conference or queue).
   */
  handingOver?: boolean;
  /** Set while a REST update (new Url or Twiml) moves the call on: the verb it leaves was redirected. */
  redirecting?: boolean;
}

/** A call's channel as its host holds it: the port, plus live input and what a resumed call needs. */
export interface HostedChannel extends Channel {
  /** Live input from `.in`: keys and speech for a listening Gather. */
  input(event: { kind: "digits"; digits: string } | { kind: "speech"; text: string }): void;
  state(): ChannelState;
  resumeScript(answeredAt: number | null): void;
  /** The caller hung up (`.in`): noted before the call hears of it, so a cancelled Record says "hangup". */
  callerHungUp(): void;
}

/**
 * What `sb_actors_<R>` holds under a live call's CallSid: XState's persisted snapshot, plus what a
 * worker needs to resume the call from it (its owner, the job it came from, its clock, its caller).
 */
export type StoredActor = Record<string, unknown> & {
  sb: {
    owner: string;
    job: CallJob;
    /** The call clock's time when stored (simulated time goes on from here on resume). */
    clockAt: number;
    channel: ChannelState;
    /** The cookies the app set, when it set any. */
    cookies?: SavedCookie[];
  };
};

/** Observes one call's actor for its end: a small object per call, not two closures (issue #9). */
export class CallEndObserver {
  constructor(
    readonly call: LiveCall,
    readonly ended: (call: LiveCall, failure?: { err: unknown }) => void,
  ) {}

  complete(): void {
    this.ended(this.call);
  }

  error(err: unknown): void {
    this.ended(this.call, { err });
  }
}
