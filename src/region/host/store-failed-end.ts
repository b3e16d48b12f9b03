// Ending a call that no actor ends normally (it waited too long in the stream, or its actor
// failed): one stored record, failed with the given error, its notification, and `ended` on
// `.out` like any call's. A record already there (a redelivered message, a second report) wins.
import type { EndInput } from "../../../machines/call.machine.js";
import type { Logger } from "../../log.js";
import { callResource } from "../../model/call-resource.js";
import type { ChannelOut } from "../../protocol/channel-events.js";
import { encode } from "../../protocol/codec.js";
import type { Subjects } from "../../protocol/subjects.js";
import type { RegionStores } from "../../store/region.js";
import { logCallEnded } from "../call-end-log.js";
import type { Inspector } from "../inspect/inspector.js";
import type { Notifier } from "../outbox/notifier.js";

export interface FailedEndContext {
  region: string;
  nc: { publish(subject: string, data: Uint8Array): void };
  subjects: Subjects;
  stores: RegionStores;
  notifier: Notifier;
  log: Logger;
  /** Given when the call has inspection events: its end goes among them. */
  inspector?: Inspector;
}

/** Stores `end` (status failed, with its error) unless the call has a record; false if it had. */
export async function storeFailedEnd(
  ctx: FailedEndContext,
  end: EndInput & { error: NonNullable<EndInput["error"]> },
  times: { endedAt: number; offeredAt: number; clockAt?: number },
): Promise<boolean> {
  const { callSid } = end.facts;
  const record = callResource(end, times.endedAt, times.offeredAt);
  const created = await ctx.stores.calls.create(callSid, record);
  if (!created) return false;
  logCallEnded(ctx.log, ctx.region, record);
  ctx.notifier.notify({
    accountSid: end.facts.accountSid ?? "",
    callSid,
    level: "error",
    code: end.error.code,
    message: end.error.message,
  });
  const ended: ChannelOut = { kind: "ended", status: "failed", region: ctx.region };
  if (ctx.inspector) ctx.inspector.command(callSid, ended, times.clockAt);
  else ctx.nc.publish(ctx.subjects.callOut(ctx.region, callSid), encode(ended));
  return true;
}
