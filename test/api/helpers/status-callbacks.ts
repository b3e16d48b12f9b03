// The status callbacks of an outbound call as a test reads them: all of them, once the final one has
// arrived, in SequenceNumber order (the outbox sends them concurrently, so arrival order is not theirs).
import type { ReceivedRequest, TwilioApp } from "../../helpers/twilio-app.js";

const FINAL = ["completed", "busy", "no-answer", "failed", "canceled"];

/** `callSid`'s callbacks on /status, once its final status has come (waiting at most `timeoutMs`). */
export async function statusCallbacks(
  app: TwilioApp,
  callSid: string,
  timeoutMs: number,
): Promise<ReceivedRequest[]> {
  await app.waitFor(
    (r) => r.path === "/status" && r.params.CallSid === callSid && FINAL.includes(r.params.CallStatus ?? ""),
    timeoutMs,
  );
  return app.requests
    .filter((r) => r.path === "/status" && r.params.CallSid === callSid)
    .sort((a, b) => Number(a.params.SequenceNumber) - Number(b.params.SequenceNumber));
}
