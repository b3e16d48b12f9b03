// <Sip>: a SIP URI rung as a child leg: a real SIP leg from a SIP call (its username/password answer
// a digest challenge), else answered by the simulated network as the caller's script says. The URI
// must be sip: or sips: and under 255 chars.
import { ErrorCodes } from "../../../errors/codes.js";
import { checkAttributes, checkChildElements, directText } from "../../verb-parsing.js";
import type { SipNoun } from "./data.js";
import { AMD_ATTRIBUTES, LEG_ATTRIBUTES, parseLegOptions } from "./leg-options.js";
import type { DialNoun } from "./noun.js";
import { type LegToRing, ringLegs } from "./ring.js";

const MAX_URI = 254;

export const sipNoun: DialNoun<SipNoun> = {
  name: "Sip",
  parse(el, ctx) {
    checkAttributes(el, [...LEG_ATTRIBUTES, "username", "password", ...AMD_ATTRIBUTES], ctx);
    checkChildElements(el, ctx);
    const uri = directText(el).trim();
    if (!/^sips?:[^\s]+$/i.test(uri) || uri.length > MAX_URI) {
      ctx.warn(
        ErrorCodes.dialSipInvalidUri.code,
        `<Sip> "${uri}" is not a sip: URI under 255 characters; skipped`,
      );
      return undefined;
    }
    const { username, password } = el.attributes;
    return {
      noun: "Sip",
      uri,
      ...(username && { username }),
      ...(password && { password }),
      ...parseLegOptions(el, ctx),
    };
  },
  target: (noun) => sipTarget(noun),
  dial: (ctx, noun, options, signal) => ringLegs(ctx, [sipTarget(noun)], options, signal),
};

function sipTarget(noun: SipNoun): LegToRing {
  return {
    to: noun.uri,
    ...(noun.username && { auth: { username: noun.username, password: noun.password ?? "" } }),
    ...(noun.url && { whisper: { url: noun.url, method: noun.method } }),
    options: noun,
  };
}
