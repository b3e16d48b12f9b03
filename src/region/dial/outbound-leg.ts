// An outbound REST call that leaves switchboard as a real SIP leg (issue #17): through its trunk to a
// number, or straight to a `sip:` URI. Any gateway places it (`sb.sip.originate`, a queue group);
// from its reply on, the call's channel is that leg on that gateway, and its events say how it rings.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { AnnounceOutcome, CallFacts } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { decode, encode, encodingOf } from "../../protocol/codec.js";
import type { Outbound } from "../../protocol/outbound.js";
import { readReply } from "../../protocol/service-error.js";
import type { SipCommand } from "../../protocol/sip-commands.js";
import {
  dialStatusOf,
  type LegEvent,
  type LegState,
  LegStateSchema,
  type Originate,
  OriginateReplySchema,
  readLegEvent,
} from "../../protocol/sip-legs.js";
import type { LiveCall } from "../host/live-call.js";
import { outboundRecordingSid } from "../outbox/outbound-recording.js";
import type { RegionRuntime } from "../runtime.js";

/** A gateway that has not replied to the originate within this long is not there. */
const ORIGINATE_TIMEOUT_MS = 5_000;
/** The gateway cancels at `timeoutMs`; if its final event is lost too, the region gives up this much later. */
const FINAL_GRACE_MS = 15_000;
/** The leg's gateway answers `leg-state` at once; one that has not within this long is not there. */
const LEG_STATE_TIMEOUT_MS = 5_000;

/** Whether `to` leaves switchboard as a SIP leg: a `sip:` URI, or a number with a trunk. */
export function goesOutOverSip(to: string, outbound: Outbound): boolean {
  return /^sips?:/i.test(to) || outbound.trunk !== undefined;
}

/**
 * The INVITE a call's leg is: Request-URI, next hop and From from its trunk; the leg is the call.
 * With `Record=true` the gateway records the leg from its answer (what it holds: the real audio).
 */
export function originateOf(region: string, facts: CallFacts, outbound: Outbound): Originate {
  const trunk = outbound.trunk;
  const sipUri = /^sips?:/i.test(facts.to);
  const host = trunk && (trunk.host.includes(":") ? `[${trunk.host}]` : trunk.host);
  const fromHost = trunk?.fromDomain ?? trunk?.host;
  return {
    legSid: facts.callSid,
    region,
    uri: sipUri || !trunk ? facts.to : `sip:${facts.to}@${host}`,
    from: { user: facts.from, ...(fromHost && { host: fromHost }) },
    ...(trunk && !sipUri && { nextHop: { host: trunk.host, port: trunk.port, transport: trunk.transport } }),
    ...(trunk && !sipUri && { trunk: trunk.name }),
    ...(sipUri && facts.accountSid && { accountSid: facts.accountSid }),
    timeoutMs: outbound.timeoutS * 1000,
    ...(outbound.record && {
      record: {
        id: outboundRecordingSid(facts.callSid),
        channels: outbound.record.channels === 2 ? ("dual" as const) : ("mono" as const),
      },
    }),
  };
}

/**
 * Places the leg (unless a resumed call's is placed already), makes it the call's channel, and
 * waits for its answer or its final response. Runs in real time: the call's clock holds meanwhile.
 */
export async function ringSipLeg(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  outbound: Outbound,
  ringing: () => Promise<void>,
  signal: AbortSignal,
): Promise<AnnounceOutcome> {
  const nc = rt.bus.nc;
  // Listening before the INVITE goes: its first event can come before the originate's reply.
  const events = new LegEvents(nc, rt.bus.subjects.callLeg(rt.region, facts.callSid));
  let caught: Extract<AnnounceOutcome, { kind: "answered" }> | undefined;
  try {
    if (!call.leg) {
      const gateway = await call.clock.holding(() => originate(rt, originateOf(rt.region, facts, outbound)));
      if (!gateway) {
        rt.outbox.notifier.notify({
          accountSid: facts.accountSid ?? "",
          callSid: facts.callSid,
          level: "error",
          code: ErrorCodes.noSipGateway.code,
          message: `no SIP gateway took the call to ${facts.to} (none is running, or none replied within ${ORIGINATE_TIMEOUT_MS} ms)`,
        });
        return { kind: "unanswered", status: "failed" };
      }
      call.placedOn(gateway);
      // Ended (a REST hang-up) while the originate was out: the call's end went to the channel it had
      // then, so the leg, which rings by now, is cancelled here.
      if (signal.aborted) {
        call.channel.hangup().catch(() => {});
        throw signal.reason;
      }
    } else {
      // Resumed: the leg may have rung, answered or failed (and the callee hung up) while no worker
      // listened. Asked only now, after subscribing above, so no event falls between the two.
      const state = await call.clock.holding(() => legState(rt, call.leg?.gateway ?? "", facts.callSid));
      if (state === "gone") {
        rt.log.warn({ callSid: facts.callSid }, "the outbound SIP leg is gone from its gateway");
        return { kind: "unanswered", status: "failed" };
      }
      if (state) caught = events.catchUp(state, call.clock.now());
    }
    const deadline = outbound.timeoutS * 1000 + FINAL_GRACE_MS;
    let rang = false;
    for (;;) {
      const event = await call.clock.holding(() => events.next(deadline, signal));
      if (event === undefined) {
        // Neither answered nor failed in time (a lost event, a gateway gone): it did not answer.
        rt.log.warn({ callSid: facts.callSid }, "no final event from the outbound SIP leg; ending it");
        return { kind: "unanswered", status: "no-answer" };
      }
      if (event.kind === "ringing") {
        if (rang) continue;
        rang = true;
        call.legRang();
        rt.inspector.command(facts.callSid, { kind: "ringing" }, call.clock.now());
        await ringing();
      } else if (event.kind === "answered") {
        // From the leg's state or its live event: the same answer (a leg answers once), timed by the state.
        return caught ?? { kind: "answered", at: call.clock.now() };
      } else {
        rt.log.info({ callSid: facts.callSid, sipCode: event.sipCode }, `outbound SIP leg: ${event.reason}`);
        call.legFailed(event.sipCode);
        return { kind: "unanswered", status: dialStatusOf(event.sipCode) };
      }
    }
  } finally {
    events.close();
  }
}

/** Asks any gateway to place the leg: the gateway that did, or undefined when none replied. */
async function originate(rt: RegionRuntime, leg: Originate): Promise<string | undefined> {
  try {
    const msg = await rt.bus.nc.request(rt.bus.subjects.sipAnyOriginate(), encode(leg), {
      timeout: ORIGINATE_TIMEOUT_MS,
    });
    return OriginateReplySchema.parse(readReply(msg)).gateway;
  } catch (err) {
    rt.log.warn({ err, callSid: leg.legSid }, "outbound SIP leg not placed");
    return undefined;
  }
}

/**
 * What the leg's gateway says of it (`leg-state`): "gone" when the gateway does not know the leg or
 * does not answer at all (it died: the leg died with it); undefined when it could not tell (a gateway
 * older than `leg-state`, a slow one): the events decide then, as before. Also asked of a resumed
 * call's <Dial> legs (stale-legs.ts).
 */
export async function legState(
  rt: Pick<RegionRuntime, "bus" | "log">,
  gateway: string,
  legSid: string,
): Promise<LegState | "gone" | undefined> {
  try {
    // The server has the `.leg` subscription before the gateway hears the question.
    await rt.bus.nc.flush();
    const ask: SipCommand = { op: "leg-state" };
    const msg = await rt.bus.nc.request(rt.bus.subjects.sipCallCommand(gateway, legSid), encode(ask), {
      timeout: LEG_STATE_TIMEOUT_MS,
    });
    return LegStateSchema.parse(readReply(msg));
  } catch (err) {
    const e = err as { code?: number; name?: string; isNoResponders?: () => boolean };
    if (e.code === ErrorCodes.sipCallGone.code || e.isNoResponders?.() || e.name === "NoRespondersError")
      return "gone";
    rt.log.warn({ err, callSid: legSid }, "cannot learn the SIP leg's state from its gateway");
    return undefined;
  }
}

/** A leg's events in order; `next` waits for one, bounded, or rejects when the call is aborted. */
class LegEvents {
  readonly #sub: Subscription;
  readonly #queue: LegEvent[] = [];
  #wake: (() => void) | undefined;

  constructor(nc: NatsConnection, subject: string) {
    this.#sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        const event = readLegEvent(safeDecode(msg.data, encodingOf(msg.headers)));
        if (!event) return;
        this.#queue.push(event);
        this.#wake?.();
      },
    });
  }

  next(timeoutMs: number, signal: AbortSignal): Promise<LegEvent | undefined> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wake = undefined;
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeoutMs);
      this.#wake = () => {
        done();
        resolve(this.#queue.shift());
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      if (this.#queue.length > 0) this.#wake();
    });
  }

  /**
   * Puts what the leg's state says before the events heard since subscribing (none is newer than
   * it): its ringing, then its final event. Repeats of either are harmless (a ringing is reported
   * once; the first final ends the wait). Returns the answer's timing when it answered.
   */
  catchUp(state: LegState, now: number): Extract<AnnounceOutcome, { kind: "answered" }> | undefined {
    const front: LegEvent[] = [];
    if (state.rang) front.push({ kind: "ringing", earlyMedia: false });
    if (state.final) front.push(state.final);
    this.#queue.unshift(...front);
    if (state.final?.kind !== "answered") return undefined;
    return {
      kind: "answered",
      at: now - (state.answeredMsAgo ?? 0),
      ...(state.endedMsAgo !== undefined && { endedAt: now - state.endedMsAgo }),
    };
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

function safeDecode(data: Uint8Array, encoding: ReturnType<typeof encodingOf>): unknown {
  try {
    return decode(data, encoding);
  } catch {
    return undefined;
  }
}
