// When a SIP gateway's answer means the call is gone from it: the gateway said so (90015, the caller
// hung up), or no gateway answers at all (it stopped, restarted or is cut off). The SIP channel then
// tells its actor the caller hung up, as a BYE would.
import { ErrorCodes } from "../../errors/codes.js";
import { fail, SwitchboardError } from "../../errors/switchboard-error.js";

export function isCallLost(err: unknown): boolean {
  return (err instanceof SwitchboardError && err.code === ErrorCodes.sipCallGone.code) || unreachable(err);
}

/** A lost call's error as the verb sees it: the gateway's own, else "the gateway has lost the call". */
export function lostCallError(err: unknown): SwitchboardError {
  return err instanceof SwitchboardError
    ? err
    : fail("sipCallGone", `the SIP gateway has lost the call: ${String(err)}`);
}

/** No gateway answers (it stopped, or is cut off): NATS's no-responders or a request timeout. */
function unreachable(err: unknown): boolean {
  const e = err as { name?: string; cause?: unknown; isNoResponders?: () => boolean } | undefined;
  if (!e) return false;
  if (e.isNoResponders?.() || e.name === "NoRespondersError" || e.name === "TimeoutError") return true;
  return e.cause !== undefined && e.cause !== err && unreachable(e.cause);
}
