// What the gateway's SIP front door (dialogs.ts) reports, as log lines: refusals, framing, connections
// refused, callers who authenticated and phones that registered.
import type { Logger } from "../log.js";
import type { SipDialogsOptions } from "./dialogs.js";

export function dialogLog(
  log: Logger,
): Pick<
  SipDialogsOptions,
  "onError" | "onRefused" | "onBadFraming" | "onRefusedConnection" | "onAuthenticated" | "onRegistered"
> {
  return {
    onError: (err) => log.warn({ err }, "sip"),
    onRefused: (why) => log.info(why, "SIP request refused"),
    onBadFraming: (why, peer) => log.info({ why, peer }, "SIP message refused for its framing"),
    onRefusedConnection: (why, peer) => log.warn({ why, peer }, "SIP connection refused"),
    onAuthenticated: (who) => log.info(who, "SIP caller authenticated"),
    onRegistered: (what) => log.info(what, "SIP phone registered"),
  };
}
