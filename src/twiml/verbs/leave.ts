// <Leave>: takes the caller out of the queue. It means something only in an <Enqueue> waitUrl
// document, where the wait-music runner (wait-loop.ts) acts on it before it would run; anywhere
// else Twilio ignores it, and so does this.
import type { LeaveVerb } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, checkNoText } from "../verb-parsing.js";

export const leave: VerbDefinition<LeaveVerb> = {
  name: "Leave",
  parse(el, ctx) {
    checkAttributes(el, [], ctx);
    checkChildElements(el, ctx);
    checkNoText(el, ctx);
    return { name: "Leave" };
  },
  async execute(_ctx, _verb, signal) {
    signal.throwIfAborted();
    return { kind: "next" };
  },
};
