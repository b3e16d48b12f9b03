// A call that waited in its region's stream longer than the worker's bound (the region had no
// worker for a while) is not run late: its caller is long gone. It ends `failed` with 90005 and
// one stored Call resource, written directly rather than by an actor, so there is nothing to resume.
import { ErrorCodes } from "../../errors/codes.js";
import { numberKey } from "../../model/phone.js";
import type { CallJob } from "../../protocol/call-job.js";
import { type FailedEndContext, failUnrunCall } from "./store-failed-end.js";

export type ExpiryContext = FailedEndContext;

/**
 * Stores the expired call's record (only if it has none: a redelivered message must not write a
 * second one), reports 90005 against it, and announces its end on `.out` like any call.
 */
export async function expireCall(ctx: ExpiryContext, job: CallJob, waitedMs: number): Promise<void> {
  const { code } = ErrorCodes.waitedTooLong;
  const message = `no worker in ${ctx.region} took the call for ${Math.round(waitedMs / 1000)} s`;
  const number = await ctx.stores.numbers.get(numberKey(job.to));
  await failUnrunCall(ctx, job, number, { code, message });
}
