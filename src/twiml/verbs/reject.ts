// <Reject>: refuses the call as busy or rejected. The call machine tells the channel, which only
// avoids answering when Reject is the first verb.
import { ErrorCodes } from "../../errors/codes.js";
import type { RejectVerb } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, checkNoText } from "../verb-parsing.js";

export const reject: VerbDefinition<RejectVerb> = {
  name: "Reject",
  parse(el, ctx) {
    checkAttributes(el, ["reason"], ctx);
    // As for <Hangup>: <Parameter> children are valid TwiML but meaningless on a phone call.
    checkChildElements(el, ctx, ["Parameter"]);
    checkNoText(el, ctx);
    const raw = el.attributes.reason;
    if (raw === undefined || raw === "rejected" || raw === "busy") {
      return { name: "Reject", reason: raw ?? "rejected" };
    }
    ctx.warn(
      ErrorCodes.rejectInvalidReason.code,
      `<Reject> reason="${raw}" is not rejected or busy; using rejected`,
    );
    return { name: "Reject", reason: "rejected" };
  },
  async execute(_ctx, verb, signal) {
    signal.throwIfAborted();
    return { kind: "reject", reason: verb.reason };
  },
};
