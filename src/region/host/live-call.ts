// One call hosted by this worker: its actor, the per-call things its effects use, and the call's
// state that is not the machine's (lease stored, time limit, streams, verb context, why a verb was
// cancelled). That state is private: only the methods below change it, each named for its moment.
import type { Actor } from "xstate";
import type { CallMachine } from "../../../machines/call.machine.js";
import type { CallClock } from "../../clock/call-clock.js";
import type { CallResource } from "../../model/records.js";
import type { CallControl } from "../../protocol/call-control.js";
import type { CallerScript } from "../../protocol/offer.js";
import type { Outbound } from "../../protocol/outbound.js";
import { CallHandedOver, CallRedirected } from "../../twiml/abort-reasons.js";
import type { VerbContext } from "../../twiml/verb-context.js";
import type { TwimlWarning } from "../../twiml/verb-data.js";
import type { CookieJar } from "../../webhook/cookies.js";
import { CallStreams } from "../streams/call-streams.js";
import type { StoredStream } from "../streams/open-stream.js";
import { applyCallControl } from "./call-control.js";
import { type BridgedLegControl, type DialLegRef, DialLegs } from "./dial-legs.js";
import type { HostedChannel } from "./hosted-channel.js";
import type { SnapshotWriter } from "./snapshot-writer.js";
import type { HostedCallRef, OutboundLegRef } from "./stored-actor.js";

/** The live call with this sid; effects run only for live calls, so a miss is a bug. */
export type CallLookup = (callSid: string) => LiveCall;

/** What a LiveCall is made of (build-call.ts makes them). */
export interface LiveCallParts {
  readonly callSid: string;
  readonly actor: Actor<CallMachine>;
  readonly clock: CallClock;
  readonly channel: HostedChannel;
  /** The channel of a SIP leg on `gateway` (`sb.sip.<gateway>.call.<sid>.cmd`), for `placedOn`. */
  readonly legChannel: (gateway: string) => HostedChannel;
  /** The gateway a resumed outbound call's SIP leg is on (its stored `sb.leg`). */
  readonly leg?: OutboundLegRef | undefined;
  /** The hosted number's call a resumed outbound call rang (its stored `sb.hostedCallee`). */
  readonly hostedCallee?: HostedCallRef | undefined;
  readonly cookies: CookieJar;
  readonly snapshots: SnapshotWriter;
  readonly offeredAt: number;
  readonly caller: CallerScript | undefined;
  /** A call placed over REST: what to ring and run (undefined for any other call). */
  readonly outbound: Outbound | undefined;
  /** Seconds the call may last from its answer: REST `TimeLimit`, at creation or since (`sb.timeLimitS`). */
  readonly timeLimitS?: number | undefined;
  /** A resumed call is leased already; a new one is once its lease is stored (leaseStored). */
  readonly leased: boolean;
  /** The SIP gateway holding a SIP call's audio: its <Dial> legs go out through it (undefined otherwise). */
  readonly sipGateway?: string | undefined;
}

export class LiveCall {
  readonly callSid: string;
  readonly actor: Actor<CallMachine>;
  readonly clock: CallClock;
  #channel: HostedChannel;
  readonly #legChannel: (gateway: string) => HostedChannel;
  /** The gateway of an outbound call's SIP leg, once one took it: stored with the call, for a resume. */
  #leg: OutboundLegRef | undefined;
  /** The hosted number's call an outbound call rang: stored with the call, for a resume. */
  #hostedCallee: HostedCallRef | undefined;
  /** The legs its <Dial> rings or is bridged to, made for its first Dial (most calls never dial). */
  #dialLegs: DialLegs | undefined;
  /** Cookies the app set, returned on every later request of this call, as a browser would. */
  readonly cookies: CookieJar;
  readonly snapshots: SnapshotWriter;
  /** When the edge accepted the call (wall clock), for date_created. */
  readonly offeredAt: number;
  /** The offer's simulated-caller script: how the parties a <Dial> rings answer (`callees`). */
  readonly caller: CallerScript | undefined;
  /** A call placed over REST (`POST Calls.json`): its callee is rung first (outbound-callee.ts). */
  readonly outbound: Outbound | undefined;
  /** The SIP gateway holding a SIP call's audio: its <Dial> legs are placed there (dial/sip-leg.ts). */
  readonly sipGateway: string | undefined;
  /** What must stop when the call leaves this worker (a hosted callee's call to hang up). */
  #atClose: (() => void)[] = [];
  #closed = false;
  /**
   * No snapshot is stored before the lease that points at it (a snapshot without a lease is a call
   * no one would ever resume): until then state changes are only published.
   */
  #leased: boolean;
  /** The timer of the call's maximum duration, on its clock. */
  #limit: unknown;
  /** REST `TimeLimit` (its creation's, or a live update's), and its timer, set at the answer. */
  #timeLimitS: number | undefined;
  #timeLimit: unknown;
  /**
   * The call's open Media Streams; closed when the call ends or leaves this worker. Made when a verb
   * first asks for them (most calls never open one) or when the call is closed.
   */
  #streams: CallStreams | undefined;
  /** What its verbs are given, made when the first one runs. */
  #verbContext: VerbContext | undefined;
  /**
   * Set just before the actor is stopped to hand the call to another worker: the verb cancelled
   * then must not act as if the caller left (leave a conference or queue).
   */
  #handingOver = false;
  /** Set while a REST update (new Url or Twiml) moves the call on: the verb it leaves was redirected. */
  #redirecting = false;

  constructor(parts: LiveCallParts) {
    this.callSid = parts.callSid;
    this.actor = parts.actor;
    this.clock = parts.clock;
    this.#channel = parts.channel;
    this.#legChannel = parts.legChannel;
    this.#leg = parts.leg;
    this.#hostedCallee = parts.hostedCallee;
    this.cookies = parts.cookies;
    this.snapshots = parts.snapshots;
    this.offeredAt = parts.offeredAt;
    this.caller = parts.caller;
    this.outbound = parts.outbound;
    this.#timeLimitS = parts.timeLimitS;
    this.sipGateway = parts.sipGateway;
    this.#leased = parts.leased;
  }

  /** The legs its <Dial> rings or is bridged to, stored with the call (`sb.dialLegs`), for a resume. */
  get dialLegs(): DialLegs {
    this.#dialLegs ??= new DialLegs((now) => {
      // Before the lease, nothing is stored: leaseStored() stores the legs then.
      if (this.#leased && now) return this.#storeLegNow();
      if (this.#leased) void this.snapshots.changed();
      return Promise.resolve();
    });
    return this.#dialLegs;
  }

  /** A leg its <Dial> is bridged to now, as REST reaches it (makes no DialLegs for a call with none). */
  bridgedLeg(sid: string): BridgedLegControl | undefined {
    return this.#dialLegs?.bridgedLeg(sid);
  }

  /** The hosted number's call this outbound call rang, if it rang one (stored as `sb.hostedCallee`). */
  get hostedCallee(): HostedCallRef | undefined {
    return this.#hostedCallee;
  }

  /**
   * An outbound call is about to offer its call to a hosted number (outbound-callee.ts): stored with
   * the call at once, so a worker that resumes it hears that call end, and hangs it up at its own.
   */
  calledHosted(callee: HostedCallRef): Promise<void> {
    this.#hostedCallee = callee;
    return this.#leased ? this.#storeLegNow() : Promise.resolve();
  }

  /** Whether the call left this worker for another (handed over, or taken over): it goes on there. */
  get handedOver(): boolean {
    return this.#handingOver;
  }

  /** The Dial legs to store with the call, if it has any. */
  storedDialLegs(): DialLegRef[] | undefined {
    return this.#dialLegs?.size ? this.#dialLegs.list() : undefined;
  }

  /** Where the call's audio is: simulated here, or on a SIP gateway. */
  get channel(): HostedChannel {
    return this.#channel;
  }

  /** The SIP leg an outbound call went out on, if any (stored with the call as `sb.leg`). */
  get leg(): OutboundLegRef | undefined {
    return this.#leg;
  }

  /** The SIP leg rang (its `ringing` callback was sent): kept, so its final callback is numbered after it. */
  legRang(): void {
    if (!this.#leg || this.#leg.rang) return;
    this.#leg = { ...this.#leg, rang: true };
    if (this.#leased) void this.snapshots.changed();
  }

  /** The SIP leg did not answer, with this final response: kept, for the final callback's SipResponseCode. */
  legFailed(sipCode: number): void {
    if (!this.#leg) return;
    this.#leg = { ...this.#leg, sipCode };
    if (this.#leased) void this.snapshots.changed();
  }

  /**
   * An outbound call's SIP leg was placed on `gateway` (outbound-leg.ts): the call's channel is that
   * leg from now on, and the gateway is stored with the call at once, so a worker that resumes it
   * commands the same gateway (the leg's audio is there and nowhere else).
   */
  placedOn(gateway: string): void {
    this.#leg = { gateway };
    this.#channel = this.#legChannel(gateway);
    if (this.#leased) void this.#storeLegNow();
  }

  /**
   * Writes the snapshot that names the leg now, not after a new call's first-snapshot window (1 s):
   * a worker that resumes the call from its job alone places the leg again, and its callee rings twice
   * (or, for a <Dial> leg, rings on beside the Dial's new one).
   */
  #storeLegNow(): Promise<void> {
    void this.snapshots.changed();
    return this.snapshots.settled();
  }

  /** The actor changed state: the snapshot is stale (stored within SnapshotWriter's window) once leased. */
  stateChanged(): void {
    if (this.#leased) void this.snapshots.changed();
    this.#limitAfterAnswer();
  }

  /** Whether the call's lease is stored (a new call's is being written while it starts). */
  get isLeased(): boolean {
    return this.#leased;
  }

  /** The call's lease is stored: its snapshot may be stored from now on. */
  leaseStored(): void {
    this.#leased = true;
    if (this.actor.getSnapshot().status !== "active") return;
    // A leg placed while the lease was being written is stored now; anything else once the window
    // has passed, if the call is still live by then.
    if (this.#leg || this.#hostedCallee || this.#dialLegs?.size) void this.#storeLegNow();
    else void this.snapshots.changed();
  }

  /**
   * Twilio's maximum call duration, on the call's clock from its arrival, and the call's REST
   * TimeLimit from its answer: a resumed call keeps both.
   */
  limitDuration(maxCallMs: number): void {
    const { arrivedAt } = this.actor.getSnapshot().context;
    this.#limit = this.clock.setTimeout(
      () => this.actor.send({ type: "call.limit" }),
      arrivedAt + maxCallMs - this.clock.now(),
    );
    this.#limitAfterAnswer();
  }

  /** The call's REST TimeLimit in seconds, if it has one: stored with the call (`sb.timeLimitS`). */
  get timeLimitS(): number | undefined {
    return this.#timeLimitS;
  }

  /**
   * REST `TimeLimit` on a live call: from its answer, so one that has lasted longer ends at once (on
   * the next turn of its clock). Stored with the call, for a worker that resumes it.
   */
  limitTo(seconds: number): void {
    this.#timeLimitS = seconds;
    this.clock.clearTimeout(this.#timeLimit);
    this.#timeLimit = undefined;
    this.#limitAfterAnswer();
    if (this.#leased) void this.snapshots.changed();
  }

  /** Sets the call's REST TimeLimit, on the call's clock from its answer, once it answered. */
  #limitAfterAnswer(): void {
    const limitS = this.#timeLimitS;
    if (limitS === undefined || this.#timeLimit !== undefined) return;
    const { answeredAt } = this.actor.getSnapshot().context;
    if (answeredAt === null) return;
    this.#timeLimit = this.clock.setTimeout(
      () => this.actor.send({ type: "call.timeLimit" }),
      Math.max(0, answeredAt + limitS * 1000 - this.clock.now()),
    );
  }

  /** The context its verbs run in: one per call, made (by `make`) for its first verb. */
  verbContext(make: (call: LiveCall) => VerbContext): VerbContext {
    this.#verbContext ??= make(this);
    return this.#verbContext;
  }

  /** The call's Media Streams, made when first asked for. */
  streams(): CallStreams {
    if (this.#streams) return this.#streams;
    const { openStream, reattachStream } = this.channel;
    const streams = new CallStreams(
      this.clock,
      openStream && ((o) => openStream.call(this.channel, o)),
      reattachStream && ((id, onInvalid) => reattachStream.call(this.channel, id, onInvalid)),
    );
    // A stream its gateway holds is stored with the call, for a worker that resumes it.
    streams.onChange = () => void this.snapshots.changed();
    this.#streams = streams;
    return streams;
  }

  /** Whether a resumed call's streams wait to be taken back (without making the call's streams). */
  get restoringStreams(): boolean {
    return this.#streams?.restoring ?? false;
  }

  /** The streams to store with the call, if it has any its gateway holds. */
  storedStreams(): StoredStream[] | undefined {
    return this.#streams?.stored();
  }

  /**
   * Applies a live-call change (REST's POST Calls/{Sid}) and returns the call as it is right after.
   * A new Url or Twiml moves the call on: the verb it leaves hears so, synchronously, meanwhile.
   */
  applyControl(change: CallControl, warn: (warning: TwimlWarning) => void): CallResource {
    if (change.timeLimitS !== undefined) this.limitTo(change.timeLimitS);
    this.#redirecting = change.url !== undefined || change.twiml !== undefined;
    try {
      return applyCallControl(this.actor, change, this.offeredAt, warn);
    } finally {
      this.#redirecting = false;
    }
  }

  /**
   * Why a verb of this call was cancelled: the call moved to another worker (it stays in its
   * conference or queue) or to new TwiML (`QueueResult=redirected`), else `reason` (the caller hung up).
   */
  whyCancelled(reason: unknown): unknown {
    return this.#handingOver
      ? new CallHandedOver("the call moved to another worker")
      : this.#redirecting
        ? new CallRedirected("a REST update gave the call new TwiML")
        : reason;
  }

  /** Stops this copy to hand the call over; resolves once the state it stopped in is stored. */
  handOver(): Promise<void> {
    this.#handingOver = true;
    const sealed = this.snapshots.seal(); // taken before the stop: the state to resume
    this.#streams?.handOver(); // before the stop: a cancelled <Connect> must not stop its stream
    this.actor.stop();
    return sealed;
  }

  /** Another worker took the call over (this one was thought dead): stops this copy, stores nothing. */
  drop(): void {
    this.#handingOver = true;
    this.snapshots.discard();
    this.#streams?.handOver();
    this.actor.stop();
  }

  /** Runs `fn` when the call leaves this worker (at once if it has). */
  atClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#atClose.push(fn);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The call left this worker (it ended, or was stopped): its time limit, clock and streams end. */
  close(): void {
    this.#closed = true;
    this.snapshots.close();
    for (const fn of this.#atClose.splice(0)) fn();
    this.clock.clearTimeout(this.#limit);
    this.clock.clearTimeout(this.#timeLimit);
    this.clock.dispose();
    // Closed even if never opened: a verb still running that opens one has it stopped at once. Handed
    // over, a stream its gateway holds stays open for the worker the call moved to.
    if (this.#handingOver) this.streams().handOver();
    else this.streams().closeAll();
  }
}

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
