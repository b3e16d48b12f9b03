// The queue port of one call (twiml/ports/rooms.ts), over the region's shared queue store: bound to the
// call's account and CallSid; each read and change holds the call's clock while it is in flight (so
// a simulated clock never jumps over real work); a wait for others paces it (its timers fire in real
// time: at time-scale 0 a waiting caller must not hang up before anyone could come).
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallClock } from "../../clock/call-clock.js";
import { dialerRecord, type QueueStore } from "../../store/queue-store.js";
import type { QueuePort } from "../../twiml/ports/rooms.js";
import { waitForState } from "../host/watch-state.js";

export function queuePort(
  store: QueueStore,
  nc: NatsConnection,
  clock: Pick<CallClock, "holding" | "pacing">,
  call: { accountSid: string; callSid: string },
): QueuePort {
  const { accountSid, callSid } = call;
  return {
    enqueue: (name, maxSize) => clock.holding(() => store.enqueue(accountSid, name, callSid, maxSize)),
    get: (queueSid) => clock.holding(() => store.get(accountSid, queueSid)),
    remove: (queueSid) => clock.holding(() => store.remove(accountSid, queueSid, callSid)),
    endStay: (queueSid, enqueuedAt) => clock.holding(() => store.endStay(queueSid, { callSid, enqueuedAt })),
    dequeue: (name, url, step) =>
      clock.holding(async () => {
        const queue = await store.byName(accountSid, name);
        if (!queue) return { kind: "missing" };
        const how = { by: callSid, ...(url && { url: url.url, method: url.method }) };
        const bridge = await store.dequeue(accountSid, queue.sid, "front", how, step);
        return bridge ? { kind: "dequeued", queue, bridge } : { kind: "empty", queue };
      }),
    dialerBridge: (step) =>
      clock.holding(async () => {
        const kept = await store.dialerBridge(callSid, step);
        // Its first run may have died before taking the member out of the list (tidying only: the
        // next dequeuer to meet it there takes it out too).
        if (kept) await store.settle(accountSid, kept.bridge).catch(() => {});
        return kept;
      }),
    noteBridged: (step, bridge, at) =>
      clock.holding(() => store.noteDialer(callSid, step, dialerRecord(bridge, at))),
    bridge: (member) => clock.holding(() => store.bridge(member)),
    setBridge: (member, state) =>
      clock.holding(() => store.setBridge(member, state, state === "ended" ? callSid : undefined)),
    // A wait for others paces the clock: the caller's own timers fire in real time meanwhile.
    waitFor: (queueSid, read, done, signal) =>
      clock.pacing(() => waitForState(nc, store.subject(queueSid), read, done, signal)),
  };
}
