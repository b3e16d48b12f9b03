// A call job the worker cannot run (it fails the call-job schema: written by a broken or older
// publisher) still ends with one stored Call resource, `failed` with 90002, and its notification,
// rather than disappearing: the edge acknowledged it, so someone may be waiting for its end.
import { z } from "zod";
import { ErrorCodes } from "../../errors/codes.js";
import { toSwitchboardError } from "../../errors/switchboard-error.js";
import { isE164, numberKey } from "../../model/phone.js";
import { decode } from "../../protocol/codec.js";
import { type FailedEndContext, failUnrunCall } from "./store-failed-end.js";

/** What a record needs, read leniently: only a CallSid usable as a key is required. */
const RecordableJobSchema = z.object({
  callSid: z.string().regex(/^CA[0-9A-Za-z]{1,62}$/),
  to: z.string().max(64).catch(""),
  from: z.string().max(300).catch(""),
  accountSid: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/)
    .optional()
    .catch(undefined),
  edge: z.string().max(64).catch(""),
  offeredAt: z.number().optional().catch(undefined),
});

/**
 * Ends the job in `data` failed with 90002 (`reason` says why it could not run) and returns its
 * CallSid, or returns undefined when the message names no call a record could be stored for.
 * Throws when the record could not be stored (the message should then be redelivered).
 */
export async function refuseJob(
  ctx: FailedEndContext,
  data: Uint8Array,
  reason: unknown,
): Promise<string | undefined> {
  let value: unknown;
  try {
    value = decode(data);
  } catch {
    return undefined;
  }
  const read = RecordableJobSchema.safeParse(value);
  if (!read.success) return undefined;
  const job = read.data;
  const number = isE164(job.to) ? await ctx.stores.numbers.get(numberKey(job.to)) : undefined;
  const offeredAt = job.offeredAt ?? Date.now();
  await failUnrunCall(ctx, { ...job, offeredAt }, number, {
    code: ErrorCodes.invalidPayload.code,
    message: toSwitchboardError(reason).message,
  });
  return job.callSid;
}
