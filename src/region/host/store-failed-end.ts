// Ending a call that no actor ends normally (it waited too long in the stream, or its actor
// failed): one stored record, failed with the given error, its notification, and `ended` on
// `.out` like any call's. A record already there (a redelivered message, a second report) wins.
import type { EndInput } from "../../../machines/call.machine.js";
import type { Logger } from "../../log.js";
import { callResource } from "../../model/call-resource.js";
import type { NumberConfig } from "../../model/records.js";
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

/** What a call that never ran knows of itself: its job's parties and edge, and when it was offered. */
export interface UnrunCall {
  callSid: string;
  to: string;
  from: string;
  edge: string;
  accountSid?: string | undefined;
  offeredAt: number;
}

/**
 * Ends a call no actor ever ran (it waited too long, or its job could not be run) as `failed` with
 * `error`: the number's config, where there is one, gives the record its account and PN sid, as a
 * run call's record has them.
 */
export async function failUnrunCall(
  ctx: FailedEndContext,
  call: UnrunCall,
  number: NumberConfig | undefined,
  error: { code: number; message: string },
): Promise<void> {
  const end: EndInput & { error: { code: number; message: string } } = {
    facts: {
      callSid: call.callSid,
      accountSid: call.accountSid ?? number?.account_sid ?? null,
      to: call.to,
      from: call.from,
      region: ctx.region,
      edge: call.edge,
      direction: "inbound",
      apiVersion: "2010-04-01",
      phoneNumberSid: number?.sid ?? null,
    },
    status: "failed",
    arrivedAt: call.offeredAt,
    answeredAt: null,
    endedBy: "app",
    rejectReason: null,
    error,
    statusCallback: null,
  };
  await storeFailedEnd(ctx, end, { endedAt: Date.now(), offeredAt: call.offeredAt });
}
