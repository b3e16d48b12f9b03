// What a resumed call's <Dial> takes back of the legs its dead worker had (stale-legs.ts kept them):
// the leg it was bridged to — a SIP leg, bridged again on its gateway, or a hosted number's call,
// whose end is awaited again — and legs still ringing (SIP legs and hosted numbers' calls), or
// answered while no worker listened, which are heard out instead of rung again. A kept leg the
// Dial cannot take back is ended as a stale one.
import type { CallFacts } from "../../../machines/call.machine.js";
import type { CallResource } from "../../model/records.js";
import { TERMINAL_STATUSES } from "../../model/records.js";
import type { BridgedLeg, DialNetwork, DialTarget } from "../../twiml/ports/dial-network.js";
import type { DialLegRef } from "../host/dial-legs.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { type Attempt, bridgedLeg, ChildLeg } from "./child-leg.js";
import { rejoinHosted } from "./hosted-callee.js";
import { resumeHostedRinging } from "./hosted-take-back.js";
import { rejoinSip, resumeRinging } from "./sip-leg.js";
import { endStaleLegs } from "./stale-legs.js";

/**
 * Takes back the leg the call's previous worker had bridged (still talking: stale-legs.ts) when this
 * Dial rings its number: a SIP leg (no new INVITE, no whisper, the bridge set up again) or a hosted
 * number's call (no new offer: that call's end is awaited again). Otherwise the leg is ended as a
 * stale one, and the Dial rings as usual (undefined).
 */
export async function rejoin(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  kept: DialLegRef,
  targets: readonly DialTarget[],
  options: Parameters<DialNetwork["ring"]>[1],
): Promise<BridgedLeg | undefined> {
  const target = targets.findIndex((t) => t.to === kept.to);
  const { gateway, hosted } = kept;
  // A SIP leg is taken back only from the gateway the caller's audio is on (it always is: the Dial
  // places its legs there), a hosted number's call from wherever it runs.
  const back =
    gateway !== undefined && gateway === call.sipGateway
      ? (leg: ChildLeg) => rejoinSip(rt, call, leg, gateway)
      : hosted && !gateway
        ? (leg: ChildLeg) => rejoinHosted(rt, call, leg, hosted)
        : undefined;
  const held = target >= 0 && back ? await liveRecord(rt, call, kept.sid) : undefined;
  if (!back || !held) {
    await endStaleLegs(rt, [kept], facts, call.clock.now());
    return undefined;
  }
  const leg = restoredLeg(rt, call, facts, kept, target, options, held);
  const connected = (await back(leg)).connect();
  // A snapshot of an older version has no bridgedAt: the answer is the nearest time it knows.
  const since = kept.bridgedAt ?? kept.answeredAt;
  return {
    ...bridgedLeg(leg, kept.to, connected, kept.sip, gateway !== undefined),
    ...(since !== undefined && { bridgedMs: Math.max(0, call.clock.now() - since) }),
  };
}

/**
 * The SIP legs a resumed call's Dial was ringing (kept by stale-legs.ts), each given back to the target
 * it rings (the same `to`, on the caller's gateway) as a leg restored from its record, by target. A
 * kept leg that matches no target, or whose record is gone or final, is ended as a stale one.
 */
export async function takeBackRinging(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  kept: readonly DialLegRef[],
  targets: readonly DialTarget[],
  options: Parameters<DialNetwork["ring"]>[1],
): Promise<(ChildLeg | undefined)[]> {
  const legs: (ChildLeg | undefined)[] = targets.map(() => undefined);
  const stale: DialLegRef[] = [];
  for (const ref of kept) {
    const i = targets.findIndex((t, j) => legs[j] === undefined && t.to === ref.to);
    const onGateway = ref.gateway !== undefined && ref.gateway === call.sipGateway;
    const hosted = ref.hosted !== undefined && ref.gateway === undefined;
    const held = i >= 0 && (onGateway || hosted) ? await liveRecord(rt, call, ref.sid) : undefined;
    if (!held) {
      stale.push(ref);
      continue;
    }
    legs[i] = restoredLeg(rt, call, facts, ref, i, options, held);
  }
  if (stale.length) await endStaleLegs(rt, stale, facts, call.clock.now());
  return legs;
}

/**
 * A ringing leg taken back (takeBackRinging): a SIP leg's INVITE is heard out, not sent again; a
 * hosted number's call rings on, not offered again.
 */
export async function resumeAttempt(
  rt: RegionRuntime,
  call: LiveCall,
  leg: ChildLeg,
  target: DialTarget,
  options: { timeoutS: number },
  signal: AbortSignal,
): Promise<Attempt> {
  const hosted = leg.restored?.gateway === undefined ? leg.restored?.hosted : undefined;
  if (hosted) {
    return resumeHostedRinging(rt, call, leg, hosted, options, signal, (moved) =>
      call.dialLegs.hosted(leg.callSid, moved.region, moved.callSid),
    );
  }
  const tried = await resumeRinging(rt, call, leg, call.sipGateway ?? "", options, signal);
  // Twilio gives DialSip* for a <Sip> only, not for a number sent out over a trunk (as attempt does).
  if (/^sips?:/i.test(target.to)) return tried;
  const { sip: _, ...rest } = tried;
  return rest;
}

/** The leg `ref` names, for target `target` of the Dial, going on from its record (`held`). */
function restoredLeg(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  ref: DialLegRef,
  target: number,
  options: Parameters<DialNetwork["ring"]>[1],
  held: { revision: number; status: CallResource["status"] },
): ChildLeg {
  return new ChildLeg(rt, call.clock, facts, ref.to, ref.from, target, options.onProgress, {
    tracker: call.dialLegs,
    completedCallback: options.completedCallback?.(target),
    reports: options.reports,
    restored: { ref, ...held },
  });
}

/** A leg's record as a leg taken back continues it: its revision and status; none if gone or final. */
async function liveRecord(
  rt: RegionRuntime,
  call: LiveCall,
  legSid: string,
): Promise<{ revision: number; status: CallResource["status"] } | undefined> {
  const entry = await call.clock.holding(() => rt.stores.calls.kv.get(legSid));
  const held = entry?.operation === "PUT" ? entry.json<CallResource>() : undefined;
  if (!entry || !held || TERMINAL_STATUSES.has(held.status)) return undefined;
  return { revision: entry.revision, status: held.status };
}
