// <Hangup>: ends the call. The call machine hangs the channel up; the verb only says so.
import type { HangupVerb } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, checkNoText } from "../verb-parsing.js";

export const hangup: VerbDefinition<HangupVerb> = {
  name: "Hangup",
  parse(el, ctx) {
    checkAttributes(el, [], ctx);
    // <Parameter> children are valid TwiML (they go to Voice SDK clients); a phone call has no use for them.
    checkChildElements(el, ctx, ["Parameter"]);
    checkNoText(el, ctx);
    return { name: "Hangup" };
  },
  async execute(_ctx, _verb, signal) {
    signal.throwIfAborted();
    return { kind: "hangup" };
  },
};
