// A call that waited in its region's stream longer than the worker's bound (the region had no
// worker for a while) is not run late: its caller is long gone. It ends `failed` with 90005 and
// one stored Call resource, written directly rather than by an actor, so there is nothing to resume.
import type { EndInput } from "../../machines/call.machine.js";
import { encode } from "../bus/codec.js";
import type { Subjects } from "../bus/subjects.js";
import { ErrorCodes } from "../errors/codes.js";
import type { CallJob } from "../model/call-job.js";
import { numberKey } from "../model/phone.js";
import type { RegionStores } from "../store/region.js";
import { callResource } from "./call-resource.js";
import type { ChannelOut } from "./channel-events.js";
import type { Notifier } from "./notifier.js";

export interface ExpiryContext {
  region: string;
  nc: { publish(subject: string, data: Uint8Array): void };
  subjects: Subjects;
  stores: RegionStores;
  notifier: Notifier;
}

/**
 * Stores the expired call's record (only if it has none: a redelivered message must not write a
 * second one), reports 90005 against it, and announces its end on `.out` like any call.
 */
export async function expireCall(ctx: ExpiryContext, job: CallJob, waitedMs: number): Promise<void> {
  const { code } = ErrorCodes.waitedTooLong;
  const message = `no worker in ${ctx.region} took the call for ${Math.round(waitedMs / 1000)} s`;
  // The number's config gives the record its account and PN sid, as a run call's record has them.
  const number = await ctx.stores.numbers.get(numberKey(job.to));
  const end: EndInput = {
    facts: {
      callSid: job.callSid,
      accountSid: job.accountSid ?? number?.account_sid ?? null,
      to: job.to,
      from: job.from,
      region: ctx.region,
      edge: job.edge,
      direction: "inbound",
      apiVersion: "2010-04-01",
      phoneNumberSid: number?.sid ?? null,
    },
    status: "failed",
    arrivedAt: job.offeredAt,
    answeredAt: null,
    endedBy: "app",
    rejectReason: null,
    error: { code, message },
    statusCallback: null,
  };
  const created = await ctx.stores.calls.create(job.callSid, callResource(end, Date.now(), job.offeredAt));
  if (!created) return;
  ctx.notifier.notify({
    accountSid: end.facts.accountSid ?? "",
    callSid: job.callSid,
    level: "error",
    code,
    message,
  });
  const ended: ChannelOut = { kind: "ended", status: "failed", region: ctx.region };
  ctx.nc.publish(ctx.subjects.callOut(ctx.region, job.callSid), encode(ended));
}
