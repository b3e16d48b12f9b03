// Applies a live-call change (REST `POST Calls/{Sid}.json`) to a call hosted here.
import type { Actor } from "xstate";
import type { CallMachine } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { callResource } from "../../model/call-resource.js";
import type { CallResource } from "../../model/records.js";
import type { CallControl } from "../../protocol/call-control.js";
import { parseTwiml } from "../../twiml/parse.js";
import type { TwimlWarning } from "../../twiml/verb-data.js";

/** Sends the change to the call's actor and returns the call as it is right after. */
export function applyCallControl(
  actor: Actor<CallMachine>,
  change: CallControl,
  offeredAt: number,
  /** Told each warning the new TwiML has (12200, 13xxx), to record it against the call. */
  warn: (warning: TwimlWarning) => void = () => {},
): CallResource {
  if (change.status) {
    actor.send({ type: "control.end", status: change.status });
  } else if (change.url) {
    // Twilio fetches the Url when an update names both, and warns 32019 ("Twiml and Voice URL are
    // both set. Using Voice URL.").
    const both = ErrorCodes.twimlAndUrlBothSet;
    if (change.twiml !== undefined) warn({ code: both.code, message: both.title });
    actor.send({ type: "control.redirect", url: change.url, method: change.method ?? "POST" });
  } else if (change.twiml !== undefined) {
    // Twilio: with the Twiml parameter there is no document URL, so relative URLs cannot resolve
    // (the parser warns 11100 and skips them). A document that does not parse throws its 12xxx code.
    const doc = parseTwiml(change.twiml, "");
    for (const w of doc.warnings) warn(w);
    actor.send({ type: "control.twiml", verbs: [...doc.verbs] });
  }
  const { context } = actor.getSnapshot();
  return callResource({ ...context, statusCallback: null }, null, offeredAt);
}
