// The one info line each call's end gets in the region's log, whichever way it ended (its actor,
// a failure, a wait too long, a <Dial> leg): what an operator greps for, with the stored record's facts.
import type { Logger } from "../log.js";
import type { CallResource } from "../model/records.js";

export function logCallEnded(log: Logger, region: string, record: CallResource): void {
  const fields = {
    callSid: record.sid,
    status: record.status,
    duration: record.duration === null ? null : Number(record.duration),
    region,
    errorCode: record.error_code ?? null,
    ...(record.parent_call_sid && { parentCallSid: record.parent_call_sid }),
  };
  log.info(fields, "call ended");
}
