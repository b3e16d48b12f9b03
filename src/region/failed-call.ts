// A call whose actor failed (an exception inside the machine or an effect's wiring: a bug, not a
// Twilio outcome) still ends with one stored Call resource, `failed` with 90012, rather than
// disappearing: its lease and snapshot are released only after this record is stored.
import type { EndInput } from "../../machines/call.machine.js";
import { encode } from "../bus/codec.js";
import { ErrorCodes } from "../errors/codes.js";
import { callResource } from "./call-resource.js";
import type { ChannelOut } from "./channel-events.js";
import type { LiveCall } from "./live-call.js";
import type { RegionRuntime } from "./runtime.js";

/** Stores the failed call's record (unless it has one already), reports 90012 and announces its end. */
export async function storeFailedCall(rt: RegionRuntime, call: LiveCall, err: unknown): Promise<void> {
  const { context } = call.actor.getSnapshot();
  const { code } = ErrorCodes.callActorFailed;
  const message = `the call's actor failed: ${err instanceof Error ? err.message : String(err)}`;
  const end: EndInput = {
    facts: context.facts,
    status: "failed",
    arrivedAt: context.arrivedAt,
    answeredAt: context.answeredAt,
    endedBy: "app",
    rejectReason: null,
    error: { code, message },
    statusCallback: null,
  };
  const created = await rt.stores.calls.create(
    call.callSid,
    callResource(end, call.clock.now(), call.offeredAt),
  );
  if (!created) return;
  rt.notifier.notify({
    accountSid: context.facts.accountSid ?? "",
    callSid: call.callSid,
    level: "error",
    code,
    message,
  });
  const ended: ChannelOut = { kind: "ended", status: "failed", region: rt.region };
  rt.nc.publish(rt.subjects.callOut(rt.region, call.callSid), encode(ended));
  rt.inspector.command(call.callSid, ended, call.clock.now());
}
