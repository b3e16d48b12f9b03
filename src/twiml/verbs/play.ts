// <Play>: plays the audio at its body URL `loop` times, or sends `digits` as DTMF (alone, with no URL).
import { ErrorCodes } from "../../errors/codes.js";
import type { PlayVerb } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { bodyUrl, checkAttributes, checkChildElements, directText, parseLoop } from "../verb-parsing.js";

/** DTMF keys, plus w (0.5 s pause) and W (1 s pause). */
const DIGITS = /^[0-9ABCD#*wW]+$/;

export const play: VerbDefinition<PlayVerb> = {
  name: "Play",
  parse(el, ctx) {
    checkAttributes(el, ["loop", "digits"], ctx);
    checkChildElements(el, ctx);
    const loop = parseLoop(el, ctx, ErrorCodes.playInvalidLoop.code);
    const digits = el.attributes.digits;
    const validDigits = digits === undefined || DIGITS.test(digits);
    if (!validDigits)
      ctx.warn(ErrorCodes.playInvalidDigits.code, `<Play> digits="${digits}" is not valid DTMF; ignored`);
    // A digits-only <Play digits="…"/> sends DTMF and plays no media (its url is "").
    if (digits !== undefined && validDigits && directText(el).trim() === "") {
      return { name: "Play", url: "", loop, digits };
    }
    const url = bodyUrl(el, ctx);
    if (url === undefined) return undefined;
    return validDigits && digits !== undefined
      ? { name: "Play", url, loop, digits }
      : { name: "Play", url, loop };
  },
  async execute(ctx, verb, signal) {
    const options = verb.digits === undefined ? {} : { digits: verb.digits };
    for (let i = 0; i < verb.loop; i++) {
      signal.throwIfAborted();
      await ctx.channel.play(verb.url, options, signal);
    }
    return { kind: "next" };
  },
};
