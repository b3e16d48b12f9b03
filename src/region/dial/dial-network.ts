// The region's DialNetwork: each target a <Dial> rings is a child leg (child-leg.ts). A number
// switchboard hosts (it has a route, or a config in this region) is reached as a real inbound call
// through the parent's edge (hosted-callee.ts); anything else is answered by the simulated network as
// the caller's script says (`callees`), by default after 5 s of ringing, talking for 30 s. All of it
// runs on the parent call's clock, so `--time-scale 0` takes no real time.
import type { CallFacts } from "../../../machines/call.machine.js";
import { sleep } from "../../clock/clock.js";
import { isE164, numberKey } from "../../model/phone.js";
import type { Callee } from "../../protocol/offer.js";
import { isVerifiedCallerId } from "../../store/caller-ids.js";
import type {
  BridgedLeg,
  DialNetwork,
  DialTarget,
  SipOutcome,
  Unanswered,
} from "../../twiml/ports/dial-network.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { type Attempt, bridgedLeg, ChildLeg, LegHandedOver } from "./child-leg.js";
import { ringHosted } from "./hosted-callee.js";
import { ringSip } from "./sip-leg.js";
import { sipLegRequest } from "./sip-target.js";
import { endStaleLegs } from "./stale-legs.js";
import { rejoin, resumeAttempt, takeBackRinging } from "./take-back.js";
import { runWhisper } from "./whisper.js";

/** A simulated callee with no script entry answers after this long and talks this long (seconds). */
export const DEFAULT_ANSWER_AFTER_S = 5;
export const DEFAULT_TALK_S = 30;
export const DEFAULT_BUSY_AFTER_S = 1;

export function regionDialNetwork(rt: RegionRuntime, call: LiveCall, facts: CallFacts): DialNetwork {
  return {
    async callerIdAllowed(callerId) {
      if (!/^\+?\d{2,15}$/.test(callerId)) return true;
      const number = callerId.startsWith("+") ? callerId : `+${callerId}`;
      if (number === facts.from || number === facts.to) return true;
      const accountSid = facts.accountSid ?? "";
      const key = numberKey(number);
      const { numbers, routing, callerIds } = rt.directory;
      if (numbers.get(key)?.account_sid === accountSid) return true;
      // Real-time reads: the call's clock must not run on (at time-scale 0) while they are out.
      return call.clock.holding(async () => {
        // A number of the account configured in another region: the routing table knows its owner.
        if ((await routing.get(key))?.accountSid === accountSid) return true;
        return isVerifiedCallerId(callerIds, accountSid, number);
      });
    },
    keptTargets: () => call.dialLegs.keptTargets(),
    async ring(targets, options, signal) {
      // A resumed call's legs its Dial was bridged to, or ringing (stale-legs.ts).
      const kept = call.dialLegs.takeKept();
      const bridged = kept.find((ref) => ref.bridged);
      const rejoined = bridged && (await rejoin(rt, call, facts, bridged, targets, options));
      if (rejoined) {
        // Legs still ringing beside it (the worker died before it cancelled them) are over.
        const others = kept.filter((ref) => ref !== bridged);
        if (others.length) await endStaleLegs(rt, others, facts, call.clock.now());
        return rejoined;
      }
      const resumed = await takeBackRinging(
        rt,
        call,
        facts,
        kept.filter((ref) => ref !== bridged),
        targets,
        options,
      );
      const legs = targets.map(
        (t, i) =>
          resumed[i] ??
          new ChildLeg(rt, call.clock, facts, t.to, options.callerId, i, options.onProgress, {
            tracker: call.dialLegs,
            completedCallback: options.completedCallback?.(i),
            reports: options.reports,
          }),
      );
      await Promise.all(legs.map((leg, i) => (resumed[i] ? undefined : leg.initiate())));
      const controllers = legs.map(() => new AbortController());
      const abortAll = () => {
        for (const c of controllers) c.abort(signal.reason);
      };
      signal.addEventListener("abort", abortAll, { once: true });
      try {
        return await new Promise<BridgedLeg | Unanswered>((resolve, reject) => {
          let settled = 0;
          let won = false;
          const ends: (Unanswered["status"] | undefined)[] = [];
          const outcomes: (SipOutcome | undefined)[] = [];
          const settle = () => {
            if (++settled < legs.length || won) return;
            if (signal.aborted) reject(signal.reason);
            else resolve(unanswered(legs, ends, outcomes));
          };
          legs.forEach((leg, i) => {
            const target = targets[i] as DialTarget;
            const legSignal = (controllers[i] as AbortController).signal;
            const tried = resumed[i]
              ? resumeAttempt(rt, call, leg, target, options, legSignal)
              : attempt(rt, call, facts, leg, target, options, legSignal);
            tried
              .then(
                async (a) => {
                  if (!a.answered || won) {
                    // Answered at the same instant as the winner: it loses, as if it had been canceled.
                    if (a.answered) a.cancel();
                    ends[i] = a.answered ? "canceled" : a.status;
                    if (!a.answered) outcomes[i] = a.sip;
                    await leg.end(a.answered ? "canceled" : a.status, a.answered ? undefined : a.sip?.code);
                    return settle();
                  }
                  won = true;
                  controllers.forEach((c, j) => {
                    if (j !== i) c.abort(new Error("another leg answered"));
                  });
                  try {
                    resolve(await connect(rt, call, leg, target, a, legSignal));
                  } catch (err) {
                    // The caller hung up during the whisper: the answered leg is over.
                    await leg.end("completed");
                    reject(err);
                  }
                },
                async (err: unknown) => {
                  // A SIP leg left ringing for the worker the call moved to: nothing to end here.
                  if (err instanceof LegHandedOver) return settle();
                  // Stopped (another leg answered, the caller hung up) is canceled; anything else
                  // (the hosted number's edge refused the call, a store failed) is a failed leg.
                  const status = legSignal.aborted ? "canceled" : "failed";
                  if (status === "failed") {
                    const e = err as { code?: number; message?: string };
                    rt.outbox.notifier.notify({
                      accountSid: facts.accountSid ?? "",
                      callSid: leg.callSid,
                      level: "error",
                      code: e.code ?? 12400,
                      message: `dialing ${target.to}: ${e.message ?? String(err)}`,
                    });
                  }
                  ends[i] = status;
                  await leg.end(status);
                  settle();
                },
              )
              .catch(reject);
          });
        });
      } finally {
        signal.removeEventListener("abort", abortAll);
      }
    },
  };
}

/**
 * Rings one target: a number switchboard hosts runs its own app; from a SIP call, a <Sip> URI or a
 * number with an outbound trunk is a real SIP leg on the caller's gateway; anything else is the
 * simulated network.
 */
async function attempt(
  rt: RegionRuntime,
  call: LiveCall,
  facts: CallFacts,
  leg: ChildLeg,
  target: DialTarget,
  options: { timeoutS: number; callerId: string; ringTone?: string },
  signal: AbortSignal,
): Promise<Attempt> {
  const { timeoutS } = options;
  // Real work: at time-scale 0 the call's clock must not jump ahead (to its 4 h limit) meanwhile.
  const region = await call.clock.holding(() => hostedRegion(rt, target.to));
  if (region !== undefined)
    return ringHosted(rt, call, leg, region, timeoutS, signal, (r, callSid) =>
      call.dialLegs.hosted(leg.callSid, r, callSid),
    );
  const warn = (code: number, message: string) =>
    rt.outbox.notifier.notify({
      accountSid: facts.accountSid ?? "",
      callSid: leg.callSid,
      level: "warning",
      code,
      message,
    });
  const sip = call.sipGateway && sipLegRequest(rt, facts, target, options.callerId, warn);
  if (call.sipGateway && sip) {
    const tried = await ringSip(rt, call, leg, call.sipGateway, sip, options, signal);
    // Twilio gives DialSip* for a <Sip> only, not for a number sent out over a trunk.
    if (sip.trunk === undefined) return tried;
    const { sip: _, ...attempt } = tried;
    return attempt;
  }
  return simulated(call, leg, call.caller?.callees?.[target.to], timeoutS, signal);
}

/** The region a hosted number's calls go to, or undefined for a number switchboard does not host. */
export async function hostedRegion(
  rt: Pick<RegionRuntime, "region" | "directory" | "stores">,
  to: string,
): Promise<string | undefined> {
  if (!isE164(to)) return undefined;
  const key = numberKey(to);
  const route = await rt.directory.routing.get(key);
  if (route) return route.region;
  return rt.directory.numbers.has(key) || (await rt.stores.numbers.get(key)) ? rt.region : undefined;
}

/** The simulated network: the script's outcome for this target, on the parent call's clock. */
async function simulated(
  call: LiveCall,
  leg: ChildLeg,
  callee: Callee | undefined,
  timeoutS: number,
  signal: AbortSignal,
): Promise<Attempt> {
  const outcome = callee?.outcome ?? "answer";
  // A bad number fails at once, without ringing.
  if (outcome === "failed") return { answered: false, status: "failed" };
  await leg.ringing();
  const after = callee?.answerAfter ?? (outcome === "busy" ? DEFAULT_BUSY_AFTER_S : DEFAULT_ANSWER_AFTER_S);
  if (outcome === "no-answer" || after >= timeoutS) {
    await sleep(call.clock, timeoutS * 1000, signal);
    return { answered: false, status: "no-answer" };
  }
  await sleep(call.clock, after * 1000, signal);
  if (outcome === "busy") return { answered: false, status: "busy" };
  return {
    answered: true,
    cancel: () => {},
    connect: () => {
      const talk = new AbortController();
      const ended = sleep(call.clock, (callee?.talk ?? DEFAULT_TALK_S) * 1000, talk.signal).then(
        () => leg.end("completed"),
        () => {},
      );
      return {
        ended,
        hangup: async () => {
          talk.abort();
          await leg.end("completed");
        },
      };
    },
  };
}

/** The winner answers; its whisper (if any) plays to it; then it is bridged, or it declined. */
async function connect(
  rt: RegionRuntime,
  call: LiveCall,
  leg: ChildLeg,
  target: DialTarget,
  answered: Extract<Attempt, { answered: true }>,
  signal: AbortSignal,
): Promise<BridgedLeg | Unanswered> {
  await leg.answered(answered.answeredAt);
  // The callee hears the digits first (an extension), before any whisper: played on a SIP leg.
  if (target.sendDigits && answered.channel)
    await answered.channel.play("", { digits: target.sendDigits }, signal);
  else if (target.sendDigits) await sleep(call.clock, dtmfMs(target.sendDigits), signal);
  if (target.whisper) {
    const callee = call.caller?.callees?.[target.to];
    // Twilio posts a <Sip> leg's Call-ID (SipCallId) and its 200 OK's X- headers (SipHeader_X-*) to
    // the leg's screening URL.
    const { headers, callId } = answered.sip ?? {};
    const verdict = await runWhisper(
      rt,
      call,
      {
        ...leg.facts,
        ...(headers && { sipHeaders: { ...headers } }),
        ...(callId && { sip: { callId } }),
      },
      target.whisper,
      callee,
      signal,
      answered.channel,
    ).catch((err: unknown) => {
      const e = err as { code?: number; message?: string };
      if (signal.aborted) throw err;
      rt.outbox.notifier.notify({
        accountSid: leg.facts.accountSid ?? "",
        callSid: leg.callSid,
        level: "error",
        code: e.code ?? 12400,
        message: `whisper ${target.whisper?.url}: ${e.message ?? String(err)}`,
      });
      return "failed" as const;
    });
    if (verdict !== "accepted") {
      // The callee heard the whisper and hung up (or it could not play): no bridge.
      await answered.connect().hangup();
      return {
        answered: false,
        status: verdict === "failed" ? "failed" : "no-answer",
        callSid: leg.callSid,
        ...(answered.sip && { sip: answered.sip }),
      };
    }
  }
  const connected = answered.connect();
  // Stored with the call: a worker that resumes it takes this leg back instead of hanging it up.
  call.dialLegs.bridged(leg.callSid, call.clock.now(), answered.sip);
  // A SIP leg (to a <Sip> URI or over a trunk) is a call of its own on the caller's gateway.
  return bridgedLeg(leg, target.to, connected, answered.sip, answered.channel !== undefined);
}

/** How long sending `digits` takes: a key 250 ms, `w` half a second, `W` a second (Twilio's pauses). */
export function dtmfMs(digits: string): number {
  let ms = 0;
  for (const k of digits) ms += k === "w" ? 500 : k === "W" ? 1000 : 250;
  return ms;
}

/** Nobody answered: no-answer wins over busy, busy over canceled, canceled over failed. */
function unanswered(
  legs: readonly ChildLeg[],
  ends: readonly (Unanswered["status"] | undefined)[],
  outcomes: readonly (SipOutcome | undefined)[],
): Unanswered {
  for (const status of ["no-answer", "busy", "canceled", "failed"] as const) {
    const i = ends.indexOf(status);
    const sip = outcomes[i];
    if (i >= 0)
      return {
        answered: false,
        status,
        callSid: (legs[i] as ChildLeg).callSid,
        ...(sip && { sip }),
      };
  }
  return { answered: false, status: "failed" };
}
