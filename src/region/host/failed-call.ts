// A call whose actor failed (an exception inside the machine or an effect's wiring: a bug, not a
// Twilio outcome) still ends with one stored Call resource, `failed` with 90012, rather than
// disappearing: its lease and snapshot are released only after this record is stored.
import type { EndInput } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import type { LiveCall } from "./live-call.js";
import { type FailedEndContext, storeFailedEnd } from "./store-failed-end.js";

/** Stores the failed call's record (unless it has one already), reports 90012 and announces its end. */
export async function storeFailedCall(
  ctx: FailedEndContext,
  call: Pick<LiveCall, "actor" | "clock" | "offeredAt">,
  err: unknown,
): Promise<void> {
  const { context } = call.actor.getSnapshot();
  const error = {
    code: ErrorCodes.callActorFailed.code,
    message: `the call's actor failed: ${err instanceof Error ? err.message : String(err)}`,
  };
  const end: EndInput & { error: typeof error } = {
    facts: context.facts,
    status: "failed",
    arrivedAt: context.arrivedAt,
    answeredAt: context.answeredAt,
    endedBy: "app",
    rejectReason: null,
    error,
    statusCallback: null,
  };
  const endedAt = call.clock.now();
  await storeFailedEnd(ctx, end, { endedAt, offeredAt: call.offeredAt, clockAt: endedAt });
}
