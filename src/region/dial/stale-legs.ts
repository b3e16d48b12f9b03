// A resumed call's <Dial> legs from the worker that died. The call's verb runs again: a SIP leg or a
// hosted number's call the caller was bridged to, still talking, is kept for that Dial to take back
// (take-back.ts), and so are SIP legs still ringing, or answered while no worker listened, and a
// hosted number's call not ended yet (the Dial hears them again instead of ringing anew, and a
// worker handing the call over leaves them ringing: LegHandedOver); every other leg is ended
// first, as a worker handing the call over ends them (its Dial is cancelled): a SIP leg is
// cancelled or hung up at its gateway, a hosted number's call is hung up in its region, and each
// leg's record gets its final status, end time and duration, instead of staying `ringing` or
// `in-progress` for ever; a leg whose noun asked for its `completed` status callback still gets it,
// numbered after the events it reported.
import type { CallFacts } from "../../../machines/call.machine.js";
import { rfc2822 } from "../../model/dates.js";
import type { CallResource, CallStatus } from "../../model/records.js";
import { TERMINAL_STATUSES } from "../../model/records.js";
import { encode } from "../../protocol/codec.js";
import type { SipCommand } from "../../protocol/sip-commands.js";
import { dialStatusOf, type LegState } from "../../protocol/sip-legs.js";
import { indexCall } from "../../store/call-index.js";
import { mutate } from "../../store/cas-kv.js";
import { statusCallbackParams } from "../../webhook/params.js";
import { logCallEnded } from "../call-end-log.js";
import { type DialLegRef, DialLegRefSchema } from "../host/dial-legs.js";
import type { RegionRuntime } from "../runtime.js";
import { hangUpHostedCall, hostedRecord } from "./hosted-callee.js";
import { legState } from "./outbound-leg.js";

/** A gateway answers `hangup` at once; one that has not within this long has lost the leg anyway. */
const HANGUP_TIMEOUT_MS = 2_000;

type StaleRuntime = Pick<RegionRuntime, "region" | "bus" | "stores" | "inspector" | "log" | "outbox">;

/**
 * Ends each leg the stored snapshot names (`stored`: as read, unchecked) of the call `parent`. `now`
 * is the resumed call's clock as it starts. With `keep`, a leg the caller was bridged to that still
 * talks (a SIP leg, a hosted number's call), and SIP legs still ringing or answered but not bridged,
 * are not ended but returned, for the Dial to take back (take-back.ts). Never rejects: a leg that
 * cannot be ended is logged and left as it was.
 */
export async function endStaleLegs(
  rt: StaleRuntime,
  stored: unknown,
  parent: CallFacts,
  now: number,
  keep = false,
): Promise<DialLegRef[]> {
  const legs = Array.isArray(stored) ? stored : [];
  const kept = await Promise.all(
    legs.map(async (value) => {
      const ref = DialLegRefSchema.safeParse(value);
      if (!ref.success) {
        rt.log.warn({ leg: value }, "a stored <Dial> leg is not one; left as it is");
        return undefined;
      }
      return endStaleLeg(rt, ref.data, parent, now, keep).catch((err: unknown) => {
        rt.log.warn({ err, callSid: ref.data.sid }, "cannot end a resumed call's <Dial> leg");
        return undefined;
      });
    }),
  );
  return kept.filter((ref) => ref !== undefined);
}

/** Ends the leg, or returns it when it is to be kept (`keep`: bridged and talking, or a SIP leg still up). */
async function endStaleLeg(
  rt: StaleRuntime,
  ref: DialLegRef,
  parent: CallFacts,
  now: number,
  keep: boolean,
): Promise<DialLegRef | undefined> {
  const { nc, subjects } = rt.bus;
  let end: LegEnd =
    ref.answeredAt === undefined
      ? { status: "canceled" }
      : { status: "completed", answeredAt: ref.answeredAt };
  // A hosted number's call that was ringing is the Dial's to take back whatever became of it (its
  // record, if it ended meanwhile, says how: hosted-take-back.ts), rather than offering the number
  // a new call; one the caller was bridged to, with no record of its end yet, still talks.
  if (keep && ref.hosted && !ref.gateway) {
    if (!ref.bridged) return ref;
    const over = await hostedRecord(rt, ref.hosted.region, ref.hosted.callSid).catch(() => undefined);
    if (!over) return ref;
  }
  if (ref.gateway) {
    const state = await legState(rt, ref.gateway, ref.sid);
    const up = state && state !== "gone" && state.endedMsAgo === undefined;
    if (keep && up && ref.bridged && state.final?.kind === "answered") return ref;
    // Still ringing, or answered (while no worker listened, or during its whisper): the Dial hears
    // it again. A leg whose state cannot be learnt is ended, as before.
    if (keep && up && !ref.bridged && state.final?.kind !== "failed") return ref;
    if (state && state !== "gone") end = endOf(state, now);
    // CANCEL while it rings, BYE once answered; one that failed or ended is over, and one its gateway
    // does not know ("gone") died with it.
    if (state !== "gone" && state?.endedMsAgo === undefined && state?.final?.kind !== "failed") {
      const hangup: SipCommand = { op: "hangup" };
      await nc
        .request(subjects.sipCallCommand(ref.gateway, ref.sid), encode(hangup), {
          timeout: HANGUP_TIMEOUT_MS,
        })
        .catch(() => {});
    }
  }
  // Not waited for: the Dial's new leg is another call of that number, which this one does not hold up.
  if (ref.hosted) void hangUpHostedCall(rt, ref.hosted);
  const endedAt = end.endedAt ?? now;
  const { result: record } = await mutate<CallResource, CallResource | undefined>(
    rt.stores.calls.kv,
    ref.sid,
    (held) => {
      // Never created (the worker died first), or ended already (by the worker handing the call over).
      if (!held || TERMINAL_STATUSES.has(held.status)) return { value: undefined, result: undefined };
      const final: CallResource = {
        ...held,
        status: end.status,
        date_updated: rfc2822(Date.now()),
        // As the leg would have written it (child-leg.ts): its clock's time after its start_time.
        end_time: rfc2822(ref.createdWall + (endedAt - ref.createdAt)),
        duration:
          end.answeredAt === undefined
            ? null
            : String(Math.max(0, Math.round((endedAt - end.answeredAt) / 1000))),
      };
      return { value: final, result: final };
    },
  );
  if (!record) return undefined;
  await indexCall(nc, rt.region, record);
  logCallEnded(rt.log, rt.region, record);
  rt.inspector.command(ref.sid, { kind: "ended", status: record.status, region: rt.region }, now);
  if (ref.callback) {
    // As the leg would have sent it (ring.ts keys it so): queued twice, it is sent once.
    const facts: CallFacts = {
      ...parent,
      callSid: ref.sid,
      to: ref.to,
      from: ref.from,
      direction: "outbound-dial",
      parentCallSid: parent.callSid,
      phoneNumberSid: null,
    };
    const params = statusCallbackParams(facts, {
      callStatus: end.status,
      sequenceNumber: ref.reported,
      at: endedAt,
      callDuration: record.duration === null ? 0 : Number(record.duration),
    });
    await rt.outbox.statusCallbacks.queue({
      facts: parent,
      url: ref.callback.url,
      method: ref.callback.method,
      params,
      key: `${ref.sid}.completed`,
    });
  }
  return undefined;
}

/** How the leg ended: `answeredAt` when it was answered; `endedAt` when it ended before now. */
interface LegEnd {
  status: Extract<CallStatus, "completed" | "busy" | "no-answer" | "failed" | "canceled">;
  answeredAt?: number;
  endedAt?: number;
}

/** What the gateway says the leg did while no worker listened, on the resumed call's clock. */
function endOf(state: LegState, now: number): LegEnd {
  const endedAt = state.endedMsAgo === undefined ? undefined : now - state.endedMsAgo;
  if (state.final?.kind === "answered")
    return {
      status: "completed",
      answeredAt: now - (state.answeredMsAgo ?? 0),
      ...(endedAt !== undefined && { endedAt }),
    };
  if (state.final?.kind === "failed") return { status: dialStatusOf(state.final.sipCode) };
  return { status: "canceled" };
}
