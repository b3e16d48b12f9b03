// <Pause>: silence for `length` seconds, in the clock's time (the channel waits on it).
import { ErrorCodes } from "../../errors/codes.js";
import type { PauseVerb, VerbOutcome } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, checkNoText } from "../verb-parsing.js";

export const pause: VerbDefinition<PauseVerb> = {
  name: "Pause",
  parse(el, ctx) {
    checkAttributes(el, ["length"], ctx);
    checkChildElements(el, ctx);
    checkNoText(el, ctx);
    const raw = el.attributes.length;
    if (raw === undefined) return { name: "Pause", length: 1 };
    const length = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(length) || length < 1) {
      ctx.warn(
        ErrorCodes.pauseInvalidLength.code,
        `<Pause> length="${raw}" is not a whole number > 0; using 1`,
      );
      return { name: "Pause", length: 1 };
    }
    return { name: "Pause", length };
  },
  // Not async: 100,000 parked calls wait here (issue #9), and an async frame keeps a suspended
  // generator and a promise of its own for each. A sync throw becomes a rejection in executeVerb.
  execute(ctx, verb, signal) {
    signal.throwIfAborted();
    return ctx.channel.pause(verb.length, signal).then(next);
  },
};

/** One function for every call's then(), rather than a closure each. */
const next = (): VerbOutcome => ({ kind: "next" });
