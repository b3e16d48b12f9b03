// One child leg of a <Dial>: a Call resource of its own in the parent's region (Direction
// outbound-dial, ParentCallSid = the parent), stored at each status so the REST API shows it while it
// rings and talks, indexed once it ends (the index key carries the final status), and reported to
// the Dial as Twilio's leg events with the child's own parameters.
import type { CallFacts } from "../../../machines/call.machine.js";
import type { CallClock } from "../../clock/call-clock.js";
import { callResource } from "../../model/call-resource.js";
import type { CallResource, CallStatus } from "../../model/records.js";
import { newSid } from "../../model/sid.js";
import type { ChannelOut } from "../../protocol/channel-events.js";
import { indexCall } from "../../store/call-index.js";
import { writeOwnCallRecord } from "../../store/call-records.js";
import type { Channel } from "../../twiml/ports/channel.js";
import type { BridgedLeg, LegCallback, LegProgress, SipOutcome } from "../../twiml/ports/dial-network.js";
import type { LegEvent } from "../../twiml/verbs/dial/data.js";
import { statusCallbackParams } from "../../webhook/params.js";
import { logCallEnded } from "../call-end-log.js";
import type { DialLegRef, LegTracker } from "../host/dial-legs.js";
import type { RegionRuntime } from "../runtime.js";

export type LegEnd = Extract<CallStatus, "completed" | "busy" | "no-answer" | "failed" | "canceled">;

/** How one leg's ringing came out; an answered one still has to be connected (or cancelled). */
export type Attempt =
  | { answered: false; status: Exclude<LegEnd, "completed">; sip?: SipOutcome }
  | {
      answered: true;
      /** A leg that is a call of its own (a SIP leg): its whisper and sendDigits play on it. */
      channel?: Channel;
      /** A SIP leg's final response (its 2xx). */
      sip?: SipOutcome;
      /** When it answered on the parent's clock, if before now: a resumed Dial's leg answered meanwhile. */
      answeredAt?: number;
      /**
       * Bridges the leg: resolves `ended` when the callee hangs up; `hangup` ends it from our side,
       * `release` leaves it to the worker the call moved to.
       */
      connect: () => Pick<BridgedLeg, "ended" | "hangup" | "release">;
      /** Drops a leg that answered too late (another won): a hosted call is hung up. */
      cancel: () => void;
    };

/**
 * Why a ringing leg's attempt ends when its call moves to another worker (a graceful stop): the leg
 * rings on, uncancelled and its record unwritten, for that worker to take back (take-back.ts).
 */
export class LegHandedOver extends Error {
  override name = "LegHandedOver";
}

/**
 * An answered leg as the Dial holds it once bridged (connected now, or taken back by a resumed call):
 * one place, so that no way of holding a leg forgets what connecting it gave (`release`, its 2xx).
 */
export function bridgedLeg(
  leg: ChildLeg,
  to: string,
  connected: Pick<BridgedLeg, "ended" | "hangup" | "release">,
  sip: SipOutcome | undefined,
  onGateway: boolean,
): BridgedLeg {
  // REST can hang the leg up as long as it is bridged, whoever bridged it (a Dial, or a resumed call
  // that took it back).
  const { ended, hangup, release } = leg.restControlled(connected);
  return {
    answered: true,
    callSid: leg.callSid,
    to,
    ...(onGateway && { onGateway }),
    ended,
    hangup,
    ...(release && { release }),
    durationS: () => leg.durationS(),
    ...(sip && { sip }),
  };
}

export class ChildLeg {
  readonly facts: CallFacts;
  readonly createdAt: number;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  status: CallStatus = "queued";
  #sequence = 0;
  #ending: Promise<void> | undefined;
  /** The revision of the leg's record in sb_calls_<r> (0 before its first write), and the write in flight. */
  #revision = 0;
  #writing: Promise<unknown> = Promise.resolve();
  /**
   * When the leg was made by the wall clock: its date_created and start_time, which REST clients
   * filter on. At a time-scale below 1 the parent's clock runs ahead of the wall clock.
   */
  readonly #createdWall: number;
  /** Resolves once the parent's stored snapshot names this leg. */
  readonly #named: Promise<void>;
  /** The parent call's list of its legs (dial-legs.ts). */
  readonly #tracker: LegTracker | undefined;
  /** A leg taken back by a resumed call: as its previous worker stored it. */
  readonly restored: DialLegRef | undefined;
  readonly #reports: (event: LegEvent) => boolean;

  constructor(
    private readonly rt: Pick<RegionRuntime, "region" | "bus" | "stores" | "inspector" | "log">,
    private readonly clock: CallClock,
    parent: CallFacts,
    to: string,
    from: string,
    /** Which target of the Dial this leg rings, for its progress events. */
    private readonly target: number,
    private readonly onProgress: (p: LegProgress) => void,
    kept: {
      /** The parent call's list of its legs, stored with it so that a resume can end them (dial-legs.ts). */
      tracker?: LegTracker;
      /** Where the leg's `completed` callback goes, for a resume that ends the leg. */
      completedCallback?: LegCallback | undefined;
      /** The ring's `reports` (DialNetwork): which of this target's events are sent; only those are numbered. */
      reports?: ((target: number, event: LegEvent) => boolean) | undefined;
      /**
       * A leg the call's previous worker bridged or was ringing, taken back: as stored, and its
       * record's revision and status.
       */
      restored?: { ref: DialLegRef; revision: number; status: CallStatus };
    } = {},
  ) {
    const restored = kept.restored;
    this.restored = restored?.ref;
    this.#reports = (event) => kept.reports?.(target, event) ?? true;
    this.#tracker = kept.tracker;
    this.createdAt = restored?.ref.createdAt ?? clock.now();
    this.#createdWall = restored?.ref.createdWall ?? Date.now();
    this.facts = {
      callSid: restored?.ref.sid ?? newSid("CA"),
      accountSid: parent.accountSid,
      to,
      from,
      region: parent.region,
      edge: parent.edge,
      direction: "outbound-dial",
      parentCallSid: parent.callSid,
      apiVersion: parent.apiVersion,
      phoneNumberSid: null,
    };
    if (restored) {
      // Named in the snapshot already (bridged, or ringing): it goes on where it was.
      this.status = restored.status;
      this.answeredAt = restored.ref.answeredAt ?? (restored.ref.bridged ? this.createdAt : null);
      this.#revision = restored.revision;
      this.#sequence = restored.ref.reported;
      this.#named = Promise.resolve();
      return;
    }
    this.#named =
      this.#tracker?.made({
        sid: this.facts.callSid,
        to,
        from,
        createdAt: this.createdAt,
        createdWall: this.#createdWall,
        reported: 0,
        ...(kept.completedCallback && { callback: kept.completedCallback }),
      }) ?? Promise.resolve();
  }

  get callSid(): string {
    return this.facts.callSid;
  }

  /** Seconds connected: from the answer to the end (or to now, while it talks). */
  durationS(): number {
    if (this.answeredAt === null) return 0;
    return Math.round(((this.endedAt ?? this.clock.now()) - this.answeredAt) / 1000);
  }

  /** Dial legs are never queued (spec): created and initiated at once. */
  async initiate(): Promise<void> {
    // Its record is created once the parent's snapshot names it: a resume then ends it (dial-legs.ts).
    await this.clock.holding(() => this.#named);
    await this.#store();
    this.#report("initiated", "queued");
  }

  async ringing(): Promise<void> {
    // A leg taken back by a resumed call may have rung (and been reported) before.
    if (this.status === "ringing" || this.answeredAt !== null) return;
    this.status = "ringing";
    await this.#store();
    this.#publish({ kind: "ringing" });
    this.#report("ringing", "ringing");
  }

  /** `at`: when it answered, if before now (a leg taken back by a resumed call answered meanwhile). */
  async answered(at = this.clock.now()): Promise<void> {
    // A leg taken back by a resumed call may have answered (and been reported) before.
    if (this.answeredAt !== null) return;
    this.status = "in-progress";
    this.answeredAt = at;
    this.#tracker?.answered(this.callSid, this.answeredAt);
    await this.#store();
    this.#publish({ kind: "answer" });
    this.#report("answered", "in-progress");
  }

  /**
   * Ends the leg once: stores and indexes its final record, then reports `completed` (with the SIP
   * final response a SIP leg met, as SipResponseCode).
   */
  end(status: LegEnd, sipResponseCode?: number): Promise<void> {
    this.#ending ??= (async () => {
      this.status = status;
      this.endedAt = this.clock.now();
      const record = await this.#store();
      await this.clock.holding(() => indexCall(this.rt.bus.nc, this.rt.region, record));
      logCallEnded(this.rt.log, this.rt.region, record);
      this.#tracker?.ended(this.callSid);
      // As for any call: `ended` on the leg's own `.out` once its record is stored.
      this.#publish({ kind: "ended", status, region: this.rt.region });
      this.#report("completed", status, this.durationS(), sipResponseCode);
    })();
    return this.#ending;
  }

  /**
   * The bridge to this leg as REST reaches it (`POST Calls/{leg}.json`, region/host/dial-legs.ts):
   * `Status=completed` ends it as the callee hanging up would, and the Dial goes on to its action.
   */
  restControlled(
    connected: Pick<BridgedLeg, "ended" | "hangup" | "release">,
  ): Pick<BridgedLeg, "ended" | "hangup" | "release"> {
    let hungUpByRest!: () => void;
    const byRest = new Promise<void>((resolve) => {
      hungUpByRest = resolve;
    });
    this.#tracker?.controlledBy(this.callSid, {
      resource: () => this.resource(),
      hangup: async () => {
        hungUpByRest();
        await connected.hangup(); // idempotent: the Dial hangs it up too as its bridge ends
        return this.resource();
      },
    });
    return { ...connected, ended: Promise.race([connected.ended, byRest]) };
  }

  /** The leg's Call resource as it is now (what its record says once stored). */
  resource(): CallResource {
    return this.#record();
  }

  #record(): CallResource {
    const record = callResource(
      {
        facts: this.facts,
        status: this.status,
        arrivedAt: this.createdAt,
        answeredAt: this.answeredAt,
        endedBy: "app",
        rejectReason: null,
        error: null,
        statusCallback: null,
      },
      this.endedAt,
      this.#createdWall,
      this.#createdWall,
    );
    // A leg's duration is its connected time (Twilio bills from the answer), not its ringing.
    const answered = this.answeredAt !== null && this.endedAt !== null;
    return { ...record, duration: answered ? String(this.durationS()) : null };
  }

  /** Writes the leg's record as it is now, after the writes before it (one at a time). */
  #store(): Promise<CallResource> {
    const write = this.#writing.then(async () => {
      const record = this.#record();
      // At the revision this leg last wrote (store/call-records.ts): it replaces its own record only.
      this.#revision = await this.clock.holding(() =>
        writeOwnCallRecord(this.rt.stores.calls, record, this.#revision),
      );
      return record;
    });
    this.#writing = write.catch(() => {});
    return write;
  }

  /** The leg's own `.out` subject shows it ring, answer and end, like any call's. */
  #publish(event: ChannelOut): void {
    this.rt.inspector.command(this.callSid, event, this.clock.now());
  }

  #report(event: LegEvent, callStatus: CallStatus, callDuration?: number, sipResponseCode?: number): void {
    // SequenceNumber counts the callbacks the app is sent (Twilio's "from 0"), not every event.
    const sequenceNumber = this.#sequence;
    if (this.#reports(event)) {
      this.#sequence++;
      this.#tracker?.reported(this.callSid, this.#sequence);
    }
    const params = statusCallbackParams(this.facts, {
      callStatus,
      sequenceNumber,
      at: this.clock.now(),
      ...(callDuration !== undefined && { callDuration }),
      ...(sipResponseCode !== undefined && { sipResponseCode }),
    });
    // Twilio reports the first event of a Dial leg as `initiated`.
    if (event === "initiated") params.CallStatus = "initiated";
    this.onProgress({ target: this.target, event, callSid: this.callSid, params });
  }
}
