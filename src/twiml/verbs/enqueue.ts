// <Enqueue>: puts the caller in the region's queue of that name and plays its waitUrl until the caller
// is dequeued (by a <Dial><Queue>: bridged until either side hangs up; by REST: redirected), leaves
// (<Leave> in the waitUrl), or hangs up. Then the action URL gets QueueResult, QueueSid, QueueTime.
import { ErrorCodes } from "../../errors/codes.js";
import { fail } from "../../errors/switchboard-error.js";
import {
  averageWaitS,
  type BridgeRecord,
  DEFAULT_QUEUE_SIZE,
  isOfStay,
  MAX_QUEUE_SIZE,
  type QueueRecord,
} from "../../model/rooms.js";
import { CallRedirected, isHandOver } from "../abort-reasons.js";
import { intAttribute, methodAttribute, urlAttribute } from "../attribute-values.js";
import type { QueuePort } from "../ports/rooms.js";
import { joinBridgeRoom } from "../room-audio.js";
import type { VerbContext } from "../verb-context.js";
import type { EnqueueVerb, VerbOutcome } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, directText } from "../verb-parsing.js";
import { runWaitMusic, type WaitEnd } from "../wait-loop.js";

const ATTRIBUTES = ["action", "method", "waitUrl", "waitUrlMethod", "workflowSid", "maxQueueSize"];
/** Twilio's limit on a queue's name. */
const MAX_NAME = 64;
/** Verbs Twilio runs in an Enqueue waitUrl document. */
const WAIT_VERBS = ["Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"] as const;
/** Verbs Twilio runs in a Queue noun's url document, for the dequeued caller. */
const BRIDGE_VERBS = ["Play", "Say", "Pause", "Redirect"] as const;

type QueueResult =
  | "bridged"
  | "hangup"
  | "leave"
  | "redirected"
  | "redirected-from-bridged"
  | "queue-full"
  | "system-error";

export const enqueue: VerbDefinition<EnqueueVerb> = {
  name: "Enqueue",
  parse(el, ctx) {
    checkAttributes(el, ATTRIBUTES, ctx);
    // <Task> belongs to TaskRouter, which switchboard does not have (warned about below).
    checkChildElements(el, ctx, ["Task"]);
    const queue = directText(el).trim();
    if (queue === "" || queue.length > MAX_NAME) {
      ctx.warn(
        ErrorCodes.schemaValidation.code,
        `<Enqueue> needs a queue name of 1 to ${MAX_NAME} characters; skipped`,
      );
      return undefined;
    }
    if (el.attributes.workflowSid !== undefined) {
      ctx.warn(
        ErrorCodes.schemaValidation.code,
        "<Enqueue> workflowSid: TaskRouter is not available; queued plainly",
      );
    }
    const action = urlAttribute(el, "action", ctx) || undefined;
    const waitUrl = urlAttribute(el, "waitUrl", ctx);
    const maxQueueSize = intAttribute(
      el,
      "maxQueueSize",
      DEFAULT_QUEUE_SIZE,
      { min: 1, max: MAX_QUEUE_SIZE },
      ctx,
    );
    return {
      name: "Enqueue",
      queue,
      ...(action && { action }),
      method: methodAttribute(el, "method", "POST", ctx),
      waitUrl,
      // Twilio: POST when a waitUrl is given; its default music is a static document (GET).
      waitUrlMethod: methodAttribute(el, "waitUrlMethod", "POST", ctx),
      ...(el.attributes.maxQueueSize !== undefined && { maxQueueSize }),
    };
  },

  async execute(ctx, verb, signal): Promise<VerbOutcome> {
    const queues = ctx.queues;
    if (!queues) throw fail("internalFailure", "<Enqueue> needs the region's queues");
    const me = ctx.call.callSid;
    const after = (result: QueueResult, params: Record<string, string> = {}): VerbOutcome =>
      verb.action
        ? { kind: "fetch", url: verb.action, method: verb.method, params: { QueueResult: result, ...params } }
        : { kind: "next" };

    let joined: Awaited<ReturnType<QueuePort["enqueue"]>>;
    // A call handed to another worker after an agent dequeued it runs this verb again: it goes on
    // with that bridge, rather than joining the queue a second time.
    let dequeued: BridgeRecord | undefined;
    try {
      const taken = await alreadyDequeued(queues, me, verb.queue);
      dequeued = taken?.bridge;
      joined = taken
        ? { kind: "enqueued", queue: taken.queue }
        : await queues.enqueue(verb.queue, verb.maxQueueSize);
    } catch (err) {
      signal.throwIfAborted();
      ctx.warn(ErrorCodes.internalFailure.code, `<Enqueue> ${verb.queue}: ${(err as Error).message}`);
      return after("system-error");
    }
    // QueueSid and QueueTime go only to a caller that was enqueued (Twilio).
    if (joined.kind === "full") return after("queue-full");
    const queueSid = joined.queue.sid;
    const member = dequeued
      ? { enqueuedAt: dequeued.enqueuedAt }
      : joined.queue.members.find((m) => m.callSid === me);
    const enqueuedAt = ctx.clock.now();
    /** When an agent took this caller out of the queue: QueueTime stops there, not at the bridge's end. */
    let dequeuedAt: number | undefined;
    const timing = () => ({
      QueueSid: queueSid,
      QueueTime: String(Math.round(((dequeuedAt ?? ctx.clock.now()) - enqueuedAt) / 1000)),
    });
    const isMine = (b: BridgeRecord | undefined): b is BridgeRecord =>
      member !== undefined && isOfStay(b, queueSid, member);

    // The caller hanging up ends the wait wherever it is. This runs after the verb has been
    // cancelled, so nothing waits on it: it leaves the queue (or the bridge) and tells the action URL.
    // A call handed to another worker stays: the verb runs again there, in the same place.
    const onHangup = () => {
      if (isHandOver(signal.reason)) return;
      const leaving = async () => {
        const redirected = signal.reason instanceof CallRedirected;
        let result: QueueResult = redirected ? "redirected" : "hangup";
        // Even when it is still listed: an agent claims a caller before taking it out of the list
        // (and may have died in between), and waits for this bridge to end before the next one.
        // First, so that the stay is over even if taking it out of the list fails.
        const claim = member && (await queues.endStay(queueSid, member.enqueuedAt));
        // Twilio tells a bridged caller's action whether it left the bridge for new TwiML.
        if (claim?.state === "bridged") result = redirected ? "redirected-from-bridged" : "bridged";
        await queues.remove(queueSid);
        if (verb.action) {
          await ctx.callback({
            url: verb.action,
            method: verb.method,
            params: {
              ...ctx.callParams(redirected ? "in-progress" : "completed"),
              QueueResult: result,
              ...timing(),
            },
            key: `enqueue.${queueSid}.${enqueuedAt}`,
          });
        }
      };
      leaving().catch((err: Error) =>
        ctx.warn(ErrorCodes.internalFailure.code, `<Enqueue> leaving ${verb.queue}: ${err.message}`),
      );
    };
    // Cancelled while joining: the listener would never fire on a signal already aborted.
    if (signal.aborted) {
      onHangup();
      signal.throwIfAborted();
    }
    signal.addEventListener("abort", onHangup, { once: true });
    try {
      const waited = dequeued
        ? { bridge: dequeued }
        : await waitInQueue(ctx, verb, queueSid, isMine, timing, signal);
      let bridge: BridgeRecord;
      if ("end" in waited) {
        // <Leave> or <Hangup> in the wait document, unless a dequeue got there first.
        if (await queues.remove(queueSid)) {
          // An agent that claimed this caller as it left (before taking it out of the list) takes
          // the next one, and none claims it after.
          if (member) await queues.endStay(queueSid, member.enqueuedAt);
          return waited.end.kind === "hangup" ? { kind: "hangup" } : after("leave", timing());
        }
        bridge = (await queues.waitFor(queueSid, () => queues.bridge(me), isMine, signal)) as BridgeRecord;
      } else bridge = waited.bridge;
      // Claimed by a dequeuer that may have died before taking this caller out of the list: out of
      // it now, so that it counts in no queue size or position (nothing to do when the dequeuer did).
      await queues.remove(queueSid).catch(() => {});

      if (bridge.redirect) {
        // A REST dequeue: the call goes on at the member's new Url; the action only hears of it.
        if (verb.action) {
          await ctx.callback({
            url: verb.action,
            method: verb.method,
            params: { ...ctx.callParams("in-progress"), QueueResult: "redirected", ...timing() },
            key: `enqueue.${queueSid}.${enqueuedAt}`,
          });
        }
        return { kind: "fetch", url: bridge.url ?? "", method: bridge.method ?? "POST" };
      }
      dequeuedAt = ctx.clock.now();
      const queueTime = timing();
      // Bridged already (this verb runs again after a resume): its url has played.
      if (bridge.url && bridge.state !== "bridged") {
        await runWaitMusic(
          ctx,
          {
            url: bridge.url,
            method: bridge.method ?? "POST",
            allowed: BRIDGE_VERBS,
            atEnd: "return",
            what: "<Queue> url",
            // Twilio's own spelling of the parameter.
            params: () => ({ ...queueTime, DequeingCallSid: bridge.by }),
          },
          signal,
        );
      }
      await queues.setBridge(me, "bridged");
      // The caller and the agent hear each other in a room of two (on SIP calls: real audio).
      const talking = new AbortController();
      joinBridgeRoom(ctx, me, talking.signal);
      try {
        await queues.waitFor(
          queueSid,
          () => queues.bridge(me),
          (b) => !isMine(b) || b.state === "ended",
          signal,
        );
      } finally {
        talking.abort(isHandOver(signal.reason) ? signal.reason : new Error("the bridge ended"));
      }
      return after("bridged", { ...queueTime, DequeuingCallSid: bridge.by });
    } finally {
      signal.removeEventListener("abort", onHangup);
    }
  },
};

/** This call's live bridge out of the queue named `name`, when an agent has dequeued it already. */
async function alreadyDequeued(
  queues: QueuePort,
  me: string,
  name: string,
): Promise<{ bridge: BridgeRecord; queue: QueueRecord } | undefined> {
  const bridge = await queues.bridge(me);
  if (!bridge || bridge.state === "ended" || bridge.redirect) return undefined;
  const queue = await queues.get(bridge.queueSid);
  if (queue?.friendlyName !== name) return undefined;
  // Still listed: dequeued only if the bridge is of this stay (its agent claims it before taking it
  // out of the list); one of an earlier stay is over.
  const listed = queue.members.find((m) => m.callSid === me);
  if (listed && !isOfStay(bridge, queue.sid, listed)) return undefined;
  return { bridge, queue };
}

/** Plays the wait music until the caller is dequeued or the music says to leave. */
async function waitInQueue(
  ctx: VerbContext,
  verb: EnqueueVerb,
  queueSid: string,
  isMine: (b: BridgeRecord | undefined) => b is BridgeRecord,
  timing: () => Record<string, string>,
  signal: AbortSignal,
): Promise<{ end: WaitEnd } | { bridge: BridgeRecord }> {
  const queues = ctx.queues as QueuePort;
  const me = ctx.call.callSid;
  const done = new AbortController();
  const stop = () => done.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  try {
    const music = runWaitMusic(
      ctx,
      {
        url: verb.waitUrl,
        method: verb.waitUrlMethod,
        allowed: WAIT_VERBS,
        atEnd: "loop",
        what: "<Enqueue> waitUrl",
        params: async () => {
          const q = await queues.get(queueSid);
          const members = q?.members ?? [];
          const position = members.findIndex((m) => m.callSid === me) + 1;
          return {
            ...timing(),
            QueuePosition: String(position),
            AvgQueueTime: String(q ? averageWaitS(q, Date.now()) : 0),
            CurrentQueueSize: String(members.length),
            MaxQueueSize: String(q?.maxSize ?? 0),
          };
        },
      },
      done.signal,
    ).then((end) => ({ end }));
    const dequeued = queues
      .waitFor(queueSid, () => queues.bridge(me), isMine, done.signal)
      .then((bridge) => ({ bridge: bridge as BridgeRecord }));
    // Whichever loses is cancelled; its rejection is expected and dropped.
    music.catch(() => {});
    dequeued.catch(() => {});
    return await Promise.race([music, dequeued]);
  } finally {
    signal.removeEventListener("abort", stop);
    done.abort(new Error("the wait is over"));
  }
}
