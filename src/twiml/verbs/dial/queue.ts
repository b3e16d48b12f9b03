// <Dial><Queue>: takes the caller at the front of the region's queue of that name and bridges to them
// (their call, on whichever worker, plays the noun's `url` first, then reports the bridge). An empty
// queue is waited on for up to the Dial's timeout, as on Twilio; a missing queue fails the Dial.
// The bridge lasts until either side hangs up or the Dial's timeLimit.
import { ErrorCodes } from "../../../errors/codes.js";
import { fail } from "../../../errors/switchboard-error.js";
import type { BridgeRecord } from "../../../model/rooms.js";
import { isHandOver } from "../../abort-reasons.js";
import { methodAttribute, urlAttribute } from "../../attribute-values.js";
import { joinBridgeRoom } from "../../room-audio.js";
import type { VerbContext } from "../../verb-context.js";
import { checkAttributes, checkChildElements, directText } from "../../verb-parsing.js";
import type { QueueNoun } from "./data.js";
import type { DialNoun, DialOptions, DialResult } from "./noun.js";
import { endedByDial, endStayOnStar, TIME_LIMIT } from "./stay-end.js";

const TIMED_OUT = new Error("nobody came into the queue before the Dial's timeout");

export const queueNoun: DialNoun<QueueNoun> = {
  name: "Queue",
  parse(el, ctx) {
    checkAttributes(el, ["url", "method", "reservationSid", "postWorkActivitySid"], ctx);
    checkChildElements(el, ctx);
    const name = directText(el).trim();
    if (name === "") {
      ctx.warn(ErrorCodes.schemaValidation.code, "<Queue> needs a queue name; skipped");
      return undefined;
    }
    if (el.attributes.reservationSid !== undefined || el.attributes.postWorkActivitySid !== undefined) {
      ctx.warn(ErrorCodes.schemaValidation.code, "<Queue> TaskRouter attributes are not available; ignored");
    }
    const url = urlAttribute(el, "url", ctx) || undefined;
    return { noun: "Queue", name, ...(url && { url }), method: methodAttribute(el, "method", "POST", ctx) };
  },

  async dial(ctx, noun, options, signal): Promise<DialResult> {
    const queues = ctx.queues;
    if (!queues) throw fail("internalFailure", "<Queue> needs the region's queues");
    const me = ctx.call.callSid;
    const step = ctx.step;
    // Run again after its worker died or handed the call over: the member this Dial took is still
    // its own, bridged (talk on) or still hearing the noun's url (wait for it), not the next caller.
    const kept = step === undefined ? undefined : await queues.dialerBridge(step);
    // Cancelled during that read: the listeners below would never hear it.
    signal.throwIfAborted();
    if (kept?.bridge.state === "bridged") {
      return bridged(ctx, kept.bridge, options, signal, kept.bridgedAt);
    }
    // The member hung up while no worker ran this call: the bridge is over, as it was then.
    if (kept?.bridge.state === "ended" && kept.bridgedAt !== undefined) {
      return bridgeOver(ctx, kept.bridge, kept.bridgedAt);
    }
    const ringing = new AbortController();
    const stop = () => ringing.abort(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    const timer = ctx.clock.setTimeout(() => ringing.abort(TIMED_OUT), options.timeoutS * 1000);
    const noAnswer: DialResult = { status: "no-answer", durationS: 0, bridged: false };
    let bridge: BridgeRecord | undefined;
    // Still hearing the noun's url (dequeued): waited for again. One that hung up then is gone.
    let resumed = kept?.bridge.state === "dequeued" ? kept.bridge : undefined;
    /** A member taken out of the queue but not bridged yet: let go of it if this call gives up. */
    let pending: string | undefined;
    try {
      while (!bridge) {
        let taken: { member: string; queueSid: string };
        if (resumed) {
          taken = { member: resumed.member, queueSid: resumed.queueSid };
          resumed = undefined;
        } else {
          const out = await queues.dequeue(
            noun.name,
            noun.url ? { url: noun.url, method: noun.method } : undefined,
            step,
          );
          if (out.kind === "missing") return { status: "failed", durationS: 0, bridged: false };
          if (out.kind === "empty") {
            await queues.waitFor(
              out.queue.sid,
              () => queues.get(out.queue.sid),
              (q) => !q || q.members.length > 0,
              ringing.signal,
            );
            continue;
          }
          taken = { member: out.bridge.member, queueSid: out.queue.sid };
        }
        const member = taken.member;
        pending = member;
        const now = await queues.waitFor(
          taken.queueSid,
          () => queues.bridge(member),
          (b) => b?.by !== me || b.state !== "dequeued",
          ringing.signal,
        );
        // A caller who hung up while their url played is gone: take the next one.
        if (now?.by === me && now.state === "bridged") bridge = now;
        pending = undefined;
      }
    } catch (err) {
      // Handed over to another worker, the call keeps its member: the Dial run there goes on with it.
      if (pending !== undefined && !isHandOver(signal.reason)) {
        queues
          .setBridge(pending, "ended")
          .catch((e: Error) => ctx.warn(ErrorCodes.internalFailure.code, `<Queue> letting go: ${e.message}`));
      }
      if (ringing.signal.reason === TIMED_OUT && !signal.aborted) return noAnswer;
      throw err;
    } finally {
      ctx.clock.clearTimeout(timer);
      signal.removeEventListener("abort", stop);
    }
    return bridged(ctx, bridge, options, signal);
  },
};

/**
 * Stays bridged to the member until either side leaves or the time limit, counted from `bridgedAt`
 * (on this call's clock) when the bridge began on an earlier worker.
 */
async function bridged(
  ctx: VerbContext,
  bridge: BridgeRecord,
  { timeLimitS, hangupOnStar }: Pick<DialOptions, "timeLimitS" | "hangupOnStar">,
  signal: AbortSignal,
  bridgedAt?: number,
): Promise<DialResult> {
  const queues = ctx.queues;
  if (!queues) throw fail("internalFailure", "<Queue> needs the region's queues");
  const me = ctx.call.callSid;
  const member = bridge.member;
  const since = bridgedAt ?? ctx.clock.now();
  const result = () => bridgeOver(ctx, bridge, since);
  // The caller hanging up ends the bridge for the member too; nothing waits on this. A hand-over
  // does not: the member stays bridged, and the Dial run again on the next worker takes it back.
  const onHangup = () => {
    if (isHandOver(signal.reason)) return;
    queues
      .setBridge(member, "ended")
      .catch((err: Error) =>
        ctx.warn(ErrorCodes.internalFailure.code, `<Queue> ending the bridge: ${err.message}`),
      );
  };
  signal.addEventListener("abort", onHangup, { once: true });
  const limit = new AbortController();
  const stop = () => limit.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  // A caller still ringing (a first Dial with answerOnBridge) is answered as the bridge starts.
  await ctx.answer();
  const left = Math.max(0, timeLimitS * 1000 - elapsedMs(ctx, since));
  const timer = ctx.clock.setTimeout(() => limit.abort(TIME_LIMIT), left);
  // hangupOnStar: the agent's * ends the bridge, as the time limit does (DialCallStatus=completed).
  endStayOnStar(ctx, hangupOnStar, limit);
  // The agent hears the caller in their room of two (real audio on SIP calls), until the bridge ends.
  joinBridgeRoom(ctx, member, limit.signal);
  try {
    if (bridgedAt === undefined && ctx.step !== undefined) {
      await queues
        .noteBridged(ctx.step, bridge, since)
        .catch((err: Error) =>
          ctx.warn(ErrorCodes.internalFailure.code, `<Queue> noting the bridge: ${err.message}`),
        );
    }
    await queues.waitFor(
      bridge.queueSid,
      () => queues.bridge(member),
      (b) => b?.by !== me || b.state === "ended",
      limit.signal,
    );
    return result();
  } catch (err) {
    if (!endedByDial(limit) || signal.aborted) throw err;
    await queues.setBridge(member, "ended");
    return result();
  } finally {
    ctx.clock.clearTimeout(timer);
    limit.abort(new Error("the bridge ended"));
    signal.removeEventListener("abort", stop);
    signal.removeEventListener("abort", onHangup);
  }
}

/** The Dial's result for a bridge to `bridge.member` that began at `since` (this call's clock) and is over. */
function bridgeOver(ctx: VerbContext, bridge: BridgeRecord, since: number): DialResult {
  const bridgedMs = elapsedMs(ctx, since);
  // The member's time in the queue, up to the bridge (`enqueuedAt` is wall-clock): not the talk after it.
  const queuedMs = Math.max(0, Date.now() - bridgedMs - bridge.enqueuedAt);
  return {
    status: "completed",
    callSid: bridge.member,
    durationS: Math.round(bridgedMs / 1000),
    bridged: true,
    params: {
      QueueSid: bridge.queueSid,
      QueueTime: String(Math.round(queuedMs / 1000)),
    },
  };
}

/** Since `since` on this call's clock; never negative (a resumed clock may start before it). */
const elapsedMs = (ctx: VerbContext, since: number) => Math.max(0, ctx.clock.now() - since);
