// The <Dial> legs a call is ringing or bridged to, named in its stored snapshot (`sb.dialLegs`). The
// legs live in the worker's memory and at their far ends (a SIP callee, a hosted number's call), not
// in the call's actor: a worker that resumes the call after its worker died would otherwise ring new
// legs beside the old ones, leaving a callee bridged to no one and a leg's record `in-progress` for
// ever. It takes back a bridged leg that still talks, and SIP legs still ringing (or answered while no
// worker listened), and ends the others first (dial/stale-legs.ts).
import { z } from "zod";
import type { HttpMethod } from "../../model/http.js";
import type { CallResource } from "../../model/records.js";
import { CallSidSchema } from "../../protocol/offer.js";
import type { SipOutcome } from "../../twiml/ports/dial-network.js";

/** One leg as the snapshot names it: enough to hang it up and to write its final record. */
export interface DialLegRef {
  readonly sid: string;
  readonly to: string;
  readonly from: string;
  /** The parent's call clock when the leg was made. */
  readonly createdAt: number;
  /** The wall clock then: the leg record's start_time. */
  readonly createdWall: number;
  /** The parent's call clock when the leg answered. */
  readonly answeredAt?: number;
  /** A SIP leg: the gateway it was placed on (the parent's). */
  readonly gateway?: string;
  /** A leg that is a hosted number's inbound call: where that call runs. */
  readonly hosted?: { region: string; callSid: string };
  /** The Dial bridged the caller to it (after its whisper, if any): a resumed Dial may take it back. */
  readonly bridged?: boolean;
  /** The parent's call clock when it was bridged: a Dial's timeLimit counts from then, across a resume. */
  readonly bridgedAt?: number;
  /** A <Sip> leg's final response, for the Dial's action (DialSip*) when a resumed Dial takes it back. */
  readonly sip?: SipOutcome;
  /**
   * How many of its progress callbacks were sent (the events its noun asked for): its `completed`
   * callback's SequenceNumber. A snapshot stored before that rule counted every event.
   */
  readonly reported: number;
  /** Where its `completed` status callback goes, when its noun asked for one. */
  readonly callback?: { url: string; method: HttpMethod };
}

/** One NATS subject token: a stored name is put into subjects (a gateway's, a region's). */
const SubjectToken = z.string().regex(/^[A-Za-z0-9_-]+$/);

/** A hosted number's call as stored (`hosted` of a leg, `sb.hostedCallee`), read back. */
export const HostedCallRefSchema = z.object({ region: SubjectToken, callSid: CallSidSchema });

/** A stored leg as read back: a snapshot written by another version may hold anything. */
export const DialLegRefSchema = z.object({
  sid: CallSidSchema,
  to: z.string().max(300),
  from: z.string().max(300),
  createdAt: z.number(),
  createdWall: z.number(),
  answeredAt: z.number().optional(),
  gateway: SubjectToken.optional(),
  hosted: HostedCallRefSchema.optional(),
  bridged: z.boolean().optional(),
  bridgedAt: z.number().optional(),
  sip: z
    .object({
      code: z.number().int(),
      callId: z.string().max(1024).optional(),
      headers: z.record(z.string().max(256), z.string().max(4096)).optional(),
    })
    .optional(),
  reported: z.number().int().min(0),
  callback: z.object({ url: z.string().max(4096), method: z.enum(["GET", "POST"]) }).optional(),
});

/**
 * What a Dial's legs tell the call about themselves (child-leg.ts, sip-leg.ts, dial-network.ts). The
 * first three resolve once the snapshot naming the leg so is stored: the leg's record, its INVITE or
 * its offer wait for that, so that a worker dying in between leaves nothing a resume cannot find.
 */
export interface LegTracker {
  /** A leg is made; its record is about to be created. */
  made(ref: DialLegRef): Promise<void>;
  /** The leg is about to leave the region: a SIP INVITE on `gateway`. */
  placedOn(sid: string, gateway: string): Promise<void>;
  /** The leg is about to be offered to a hosted number, as `callSid` in `region`. */
  hosted(sid: string, region: string, callSid: string): Promise<void>;
  answered(sid: string, at: number): void;
  /** The caller is about to be bridged to the leg, at `at` (a <Sip> leg's final response with it). */
  bridged(sid: string, at: number, sip?: SipOutcome): void;
  /** The leg is bridged: REST reaches it through `control` until it ends. */
  controlledBy(sid: string, control: BridgedLegControl): void;
  /** `count` of its progress callbacks have been sent (only the events its noun asked for are numbered). */
  reported(sid: string, count: number): void;
  /** The leg's final record is stored: nothing of it is left to end. */
  ended(sid: string): void;
}

/** A bridged leg as REST reaches it (`POST Calls/{leg}.json`): its record now, and a hang-up. */
export interface BridgedLegControl {
  resource(): CallResource;
  /** Ends the bridge as the callee hanging up would; resolves with the leg's final record. */
  hangup(): Promise<CallResource>;
}

export class DialLegs implements LegTracker {
  readonly #legs = new Map<string, DialLegRef>();
  /** The bridged legs, until they end. */
  readonly #bridged = new Map<string, BridgedLegControl>();
  /**
   * Legs of a resumed call's Dial still up: the one it was bridged to, or the SIP legs it was ringing.
   * Its Dial takes them back (take-back.ts).
   */
  #kept: DialLegRef[] = [];

  /**
   * `store(now)`: the snapshot must name the legs as they are now — at once (`now`: something is
   * about to exist outside this worker that only the snapshot would let a resumed call find), or
   * within the snapshot writer's window. It resolves once stored (or at once, when it waits).
   */
  constructor(private readonly store: (now: boolean) => Promise<void>) {}

  get size(): number {
    return this.#legs.size;
  }

  /** The legs as stored, copies (the snapshot is encoded later, the legs go on changing). */
  list(): DialLegRef[] {
    return [...this.#legs.values()].map((ref) => ({ ...ref }));
  }

  made(ref: DialLegRef): Promise<void> {
    this.#legs.set(ref.sid, { ...ref });
    return this.store(true);
  }

  placedOn(sid: string, gateway: string): Promise<void> {
    return this.#change(sid, { gateway }, true);
  }

  hosted(sid: string, region: string, callSid: string): Promise<void> {
    return this.#change(sid, { hosted: { region, callSid } }, true);
  }

  answered(sid: string, at: number): void {
    void this.#change(sid, { answeredAt: at }, false);
  }

  bridged(sid: string, at: number, sip?: SipOutcome): void {
    void this.#change(sid, { bridged: true, bridgedAt: at, ...(sip && { sip }) }, false);
  }

  /** A resumed call keeps a leg for its Dial to take back; it stays named until it ends. */
  keep(ref: DialLegRef): void {
    this.#legs.set(ref.sid, { ...ref });
    this.#kept.push({ ...ref });
  }

  /** Whom the kept legs call, leaving them kept (a sequential Dial goes on from there). */
  keptTargets(): string[] {
    return this.#kept.map((ref) => ref.to);
  }

  /** The kept legs, once: taken by the Dial that rings again, or ended if the call never gets there. */
  takeKept(): DialLegRef[] {
    return this.#kept.splice(0);
  }

  reported(sid: string, count: number): void {
    void this.#change(sid, { reported: count }, false);
  }

  ended(sid: string): void {
    this.#bridged.delete(sid);
    if (this.#legs.delete(sid)) void this.store(false);
  }

  /** Makes a bridged leg reachable by REST until it ends. */
  controlledBy(sid: string, control: BridgedLegControl): void {
    if (this.#legs.has(sid)) this.#bridged.set(sid, control);
  }

  /** A leg bridged now, as REST reaches it; undefined for any other CallSid. */
  bridgedLeg(sid: string): BridgedLegControl | undefined {
    return this.#bridged.get(sid);
  }

  #change(sid: string, change: Partial<DialLegRef>, now: boolean): Promise<void> {
    const ref = this.#legs.get(sid);
    if (!ref) return Promise.resolve();
    this.#legs.set(sid, { ...ref, ...change });
    return this.store(now);
  }
}
