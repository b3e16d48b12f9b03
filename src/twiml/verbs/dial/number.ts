// <Number>: a phone number to ring as a child leg. Plain text inside <Dial> is one too. Twilio prefers
// E.164 and accepts unformatted US numbers; anything else is 13223 and the noun is skipped.
import { ErrorCodes } from "../../../errors/codes.js";
import { checkAttributes, checkChildElements, directText } from "../../verb-parsing.js";
import type { NumberNoun } from "./data.js";
import { AMD_ATTRIBUTES, LEG_ATTRIBUTES, parseLegOptions } from "./leg-options.js";
import type { DialNoun } from "./noun.js";
import { type LegToRing, ringLegs } from "./ring.js";

const SEND_DIGITS = /^[0-9A-D#*wW]+$/;

export const numberNoun: DialNoun<NumberNoun> = {
  name: "Number",
  parse(el, ctx) {
    checkAttributes(el, [...LEG_ATTRIBUTES, "sendDigits", "byoc", ...AMD_ATTRIBUTES], ctx);
    checkChildElements(el, ctx);
    const raw = directText(el).trim();
    const number = e164(raw);
    if (number === undefined) {
      ctx.warn(
        ErrorCodes.dialInvalidPhoneNumberFormat.code,
        `<Number> "${raw}" is not a phone number; skipped`,
      );
      return undefined;
    }
    const { sendDigits, byoc } = el.attributes;
    const digitsOk = sendDigits === undefined || SEND_DIGITS.test(sendDigits);
    if (!digitsOk) {
      ctx.warn(
        ErrorCodes.dialNumberInvalidSendDigits.code,
        `<Number> sendDigits="${sendDigits}" may hold only 0-9 A-D # * w W; ignored`,
      );
    }
    return {
      noun: "Number",
      number,
      ...parseLegOptions(el, ctx),
      ...(sendDigits && digitsOk && { sendDigits }),
      ...(byoc && { byoc }),
    };
  },
  target: (noun) => numberTarget(noun),
  dial(ctx, noun, options, signal) {
    return ringLegs(ctx, [numberTarget(noun)], options, signal);
  },
};

function numberTarget(noun: NumberNoun): LegToRing {
  return {
    to: noun.number,
    ...(noun.url && { whisper: { url: noun.url, method: noun.method } }),
    ...(noun.sendDigits && { sendDigits: noun.sendDigits }),
    options: noun,
  };
}

/** E.164 as written, or a US number written with the usual separators (10 digits, or 11 from 1). */
export function e164(raw: string): string | undefined {
  if (/^\+[1-9]\d{1,14}$/.test(raw)) return raw;
  if (!/^\+?[\d\s().-]+$/.test(raw)) return undefined;
  const digits = raw.replace(/\D/g, "");
  if (raw.startsWith("+")) return /^[1-9]\d{1,14}$/.test(digits) ? `+${digits}` : undefined;
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith("1")) return `+${digits}`;
  return undefined;
}
