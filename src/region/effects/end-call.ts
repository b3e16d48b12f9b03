// storing: end the channel, then write the Call resource; only then tell watchers it ended.
import { fromPromise } from "xstate";
import type { EndInput } from "../../../machines/call.machine.js";
import { callResource } from "../../model/call-resource.js";
import type { ChannelOut } from "../../protocol/channel-events.js";
import { indexCall } from "../../store/call-index.js";
import { storeCallRecord } from "../../store/call-records.js";
import { logCallEnded } from "../call-end-log.js";
import { completedSequence } from "../dial/outbound-callee.js";
import type { CallLookup } from "../host/live-call.js";
import { recordOutboundCall } from "../outbox/outbound-recording.js";
import type { RegionRuntime } from "../runtime.js";

export function endCall(
  rt: Pick<RegionRuntime, "region" | "bus" | "stores" | "outbox" | "inspector" | "log">,
  callOf: CallLookup,
) {
  return fromPromise<void, EndInput>(async ({ input }) => {
    const { callSid } = input.facts;
    const call = callOf(callSid);
    const endedAt = input.endedAt ?? call.clock.now();
    // A recording the caller hung up on is still being stored: the record comes after it.
    await call.clock.holding(() => rt.outbox.recordings.settled(callSid));
    if (input.endedBy === "app") {
      if (input.rejectReason) await call.channel.reject(input.rejectReason);
      else await call.channel.hangup();
    }
    // An outbound call's recording (REST Record=true) is stored before its record, as any recording.
    await recordOutboundCall(rt, call, input, endedAt);
    const record = callResource(input, endedAt, call.offeredAt);
    const stored = await call.clock.holding(() => storeCallRecord(rt.stores.calls, record));
    // A CallSid that is another call's (the edge refuses such offers) keeps that call's record and index.
    if (stored === "other")
      rt.log.error({ callSid }, "the CallSid has another call's record; this one's is not stored");
    else await call.clock.holding(() => indexCall(rt.bus.nc, rt.region, record));
    const callback = input.statusCallback;
    // A number's StatusCallback hears `completed`; an outbound call's, if it asked for it.
    if (callback && (callback.events === undefined || callback.events.includes("completed"))) {
      // In the outbox before the call counts as ended: a worker that dies here leaves the call to
      // be resumed, and the callback it queues again is the same message (deduplicated).
      const queued = {
        facts: input.facts,
        url: callback.url,
        method: callback.method,
        event: {
          callStatus: input.status,
          callDuration: Number(record.duration ?? 0),
          sequenceNumber: completedSequence(
            callback.events,
            input.status,
            input.answeredAt !== null,
            call.leg && call.leg.rang === true,
          ),
          at: endedAt,
          // A SIP callee's own final response; any other's follows the status (webhook/params.ts).
          ...(call.leg?.sipCode !== undefined && { sipResponseCode: call.leg.sipCode }),
        },
      };
      await call.clock.holding(() => rt.outbox.statusCallbacks.queue(queued));
    }
    logCallEnded(rt.log, rt.region, record);
    const ended: ChannelOut = { kind: "ended", status: input.status, region: rt.region };
    rt.inspector.command(callSid, ended, call.clock.now());
  });
}
