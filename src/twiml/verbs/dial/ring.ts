// Rings one or more legs through the VerbContext's network (together, or one after another with
// `sequential`), sends each leg's status callbacks as its noun asked, and holds the bridge until the
// callee hangs up, the caller presses * (hangupOnStar) or the Dial's timeLimit passes. Shared by <Dial>
// (its ringing nouns) and each ringing noun's own `dial`.
import { sleep } from "../../../clock/clock.js";
import { ErrorCodes } from "../../../errors/codes.js";
import { isHandOver } from "../../abort-reasons.js";
import type { RecordedAudio } from "../../ports/channel.js";
import type { DialTarget, LegProgress, SipOutcome } from "../../ports/dial-network.js";
import type { VerbContext } from "../../verb-context.js";
import type { LegEvent, LegNounOptions } from "./data.js";
import type { DialOptions, DialResult } from "./noun.js";

/** A target and what its noun asked for its leg (whisper, status callbacks). */
export type LegToRing = DialTarget & { readonly options: LegNounOptions };

export async function ringLegs(
  ctx: VerbContext,
  legs: readonly LegToRing[],
  options: DialOptions,
  signal: AbortSignal,
): Promise<DialResult> {
  if (!options.sequential || legs.length < 2) return ringTogether(ctx, legs, options, signal);
  // One after another, each for the Dial's timeout, until one answers (Twilio's `sequential`). A
  // resumed call goes on from the leg it was ringing (its kept leg), not from the first again.
  const kept = new Set(ctx.legs.keptTargets?.() ?? []);
  const from = Math.max(
    0,
    legs.findIndex((leg) => kept.has(leg.to)),
  );
  let result: DialResult | undefined;
  for (let i = from; i < legs.length; i++) {
    result = await ringTogether(ctx, legs.slice(i, i + 1), options, signal);
    if (result.bridged) return result;
  }
  return result as DialResult;
}

/** Rings `legs` at once: the first to answer is bridged, the others end canceled. */
async function ringTogether(
  ctx: VerbContext,
  legs: readonly LegToRing[],
  options: DialOptions,
  signal: AbortSignal,
): Promise<DialResult> {
  const reports = (target: number, event: LegEvent): boolean => {
    const leg = legs[target]?.options;
    return leg?.statusCallback !== undefined && leg.statusCallbackEvent.includes(event);
  };
  const onProgress = (p: LegProgress) => {
    const leg = legs[p.target]?.options;
    if (!leg?.statusCallback || !reports(p.target, p.event)) return;
    // Durable and off the call's path: a callback that cannot be stored is a warning, not a failure.
    ctx
      .callback({
        url: leg.statusCallback,
        method: leg.statusCallbackMethod,
        params: p.params,
        key: `${p.callSid}.${p.event}`,
      })
      .catch((err: unknown) =>
        ctx.warn(ErrorCodes.callbackErrorResponse.code, `leg status callback not queued: ${String(err)}`),
      );
  };
  const rung = await ctx.legs.ring(
    legs.map(({ options: _, ...target }) => target),
    {
      timeoutS: options.timeoutS,
      callerId: options.callerId,
      onProgress,
      ...(options.ringTone && { ringTone: options.ringTone }),
      completedCallback: (target) => {
        const leg = legs[target]?.options;
        if (!leg?.statusCallback || !reports(target, "completed")) return undefined;
        return { url: leg.statusCallback, method: leg.statusCallbackMethod };
      },
      reports,
    },
    signal,
  );
  if (!rung.answered) {
    return {
      status: rung.status,
      ...(rung.callSid && { callSid: rung.callSid }),
      durationS: 0,
      bridged: false,
      ...(rung.sip && { params: dialSipParams(rung.sip) }),
    };
  }
  // The bridge ends on whichever comes first; its own signal stops the other two.
  const bridge = new AbortController();
  const stop = () => bridge.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  const record = recordMode(options.record);
  let bridged: Promise<RecordedAudio | undefined> | undefined;
  try {
    // A caller still ringing (a first Dial with answerOnBridge) is answered as the bridge starts.
    await ctx.answer();
    bridged = ctx.channel.bridge(
      {
        callSid: rung.callSid,
        to: rung.to,
        hangupOnStar: options.hangupOnStar,
        ...(rung.onGateway && { onGateway: true }),
        ...(record && { record }),
      },
      bridge.signal,
    );
    bridged.catch(() => {});
    // Stopped from outside (the caller hung up), the bridge is over all the same: the Dial reports it.
    await Promise.race([
      rung.ended,
      // A leg taken back by a resumed call was bridged before: the limit counts from that bridge.
      sleep(ctx.clock, Math.max(0, options.timeLimitS * 1000 - (rung.bridgedMs ?? 0)), bridge.signal),
      bridged,
    ]).catch((err: unknown) => {
      if (!signal.aborted) throw err;
    });
  } finally {
    signal.removeEventListener("abort", stop);
    bridge.abort(new Error("bridge over"));
    // Handed over: the worker the call moved to takes the leg back (its bridge too: the channel left
    // it up). Otherwise, whoever ended it, the leg is over now (a callee that hung up first makes
    // this a no-op).
    if (isHandOver(signal.reason) && rung.release) rung.release();
    else await rung.hangup();
  }
  // A channel with real audio answers the bridge's end with its recording; the simulated one has none.
  // Returned even when the caller hung up: the Dial's action is still requested then (dial.ts).
  const audio = await bridged.catch(() => undefined);
  return {
    status: "completed",
    callSid: rung.callSid,
    durationS: rung.durationS(),
    bridged: true,
    ...(audio && { audio }),
    ...(rung.sip && { params: dialSipParams(rung.sip) }),
  };
}

/** A <Sip> leg's parameters on the Dial's action: its Call-ID, final response code and X- headers. */
function dialSipParams(sip: SipOutcome): Record<string, string> {
  const params: Record<string, string> = { DialSipResponseCode: String(sip.code) };
  if (sip.callId !== undefined) params.DialSipCallId = sip.callId;
  for (const [name, value] of Object.entries(sip.headers ?? {})) params[`DialSipHeader_${name}`] = value;
  return params;
}

/** What the channel records of the bridge for Twilio's `record` value (record-bridge.ts stores it). */
function recordMode(record: string): "mono" | "dual" | undefined {
  if (record === "do-not-record") return undefined;
  return record.endsWith("-dual") ? "dual" : "mono";
}
