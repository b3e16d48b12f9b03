// A gateway that stops ends its live calls (BYE; 480 before the answer) and waits for that a short
// while only. A BYE to a phone gone silent is re-sent for 32 s (RFC 3261 Timer F), after waiting as
// long for the ACK of our 200, and a SIGTERM would take that long. The region has the end of each
// call at once (SipCall ends its side before the BYE); the SIP side is over for the phone, as for any
// gateway that goes away, when its own timers run out.
import type { Logger } from "../log.js";

/** How long stopping waits for the calls it ends to be ended on the SIP side. */
export const STOP_GRACE_MS = 5_000;

/** Ends every call of `calls` (by CallSid), waiting at most STOP_GRACE_MS; a warning names those left. */
export async function endCallsWithinGrace(
  calls: ReadonlyMap<string, { shutdown(): Promise<void> }>,
  log: Logger,
): Promise<void> {
  const ending = new Map(calls);
  let grace: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    Promise.all(
      [...ending].map(([sid, call]) =>
        call
          .shutdown()
          .catch((err: unknown) => log.warn({ err, callSid: sid }, "ending a call failed"))
          .finally(() => ending.delete(sid)),
      ),
    ).then(() => true),
    new Promise<false>((resolve) => {
      grace = setTimeout(() => resolve(false), STOP_GRACE_MS);
    }),
  ]);
  clearTimeout(grace);
  if (!ended)
    log.warn(
      { calls: [...ending.keys()], graceMs: STOP_GRACE_MS },
      "stopped before every ended call's BYE was answered",
    );
}
