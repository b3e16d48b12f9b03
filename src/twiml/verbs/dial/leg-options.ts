// What Number, Client and Sip share: the whisper `url`/`method` and the child leg's status
// callbacks. Bad values are warned about and fall back to Twilio's defaults.
import { ErrorCodes } from "../../../errors/codes.js";
import type { HttpMethod } from "../../../model/http.js";
import type { TwimlElement } from "../../element.js";
import { resolveUrl } from "../../resolve-url.js";
import type { ParseContext } from "../../verb-definition.js";
import type { LegEvent, LegNounOptions } from "./data.js";

export const LEG_ATTRIBUTES = [
  "url",
  "method",
  "statusCallback",
  "statusCallbackMethod",
  "statusCallbackEvent",
];
/** Answering-machine detection: accepted (Twilio documents them on the nouns), not simulated. */
export const AMD_ATTRIBUTES = [
  "machineDetection",
  "machineDetectionTimeout",
  "machineDetectionSpeechThreshold",
  "machineDetectionSpeechEndThreshold",
  "machineDetectionSilenceTimeout",
  "amdStatusCallback",
  "amdStatusCallbackMethod",
];

const EVENTS: readonly LegEvent[] = ["initiated", "ringing", "answered", "completed"];

export function parseLegOptions(el: TwimlElement, ctx: ParseContext): LegNounOptions {
  const a = el.attributes;
  const url = absoluteUrl(a.url, "url", el, ctx);
  const statusCallback = absoluteUrl(a.statusCallback, "statusCallback", el, ctx);
  return {
    ...(url !== undefined && { url }),
    method: legMethod(a.method, "method", el, ctx),
    ...(statusCallback !== undefined && { statusCallback }),
    statusCallbackMethod: legMethod(a.statusCallbackMethod, "statusCallbackMethod", el, ctx),
    statusCallbackEvent: events(a.statusCallbackEvent, el, ctx),
  };
}

function legMethod(raw: string | undefined, name: string, el: TwimlElement, ctx: ParseContext): HttpMethod {
  if (raw === undefined || raw === "POST") return "POST";
  if (raw === "GET") return "GET";
  ctx.warn(
    ErrorCodes.dialNumberInvalidMethod.code,
    `<${el.name}> ${name}="${raw}" is not GET or POST; using POST`,
  );
  return "POST";
}

/** Space-separated (Twilio's TwiML form; commas are read too); Twilio's default is completed only. */
function events(raw: string | undefined, el: TwimlElement, ctx: ParseContext): LegEvent[] {
  if (raw === undefined || raw.trim() === "") return ["completed"];
  const out: LegEvent[] = [];
  for (const word of raw.split(/[\s,]+/).filter(Boolean)) {
    if ((EVENTS as readonly string[]).includes(word)) {
      if (!out.includes(word as LegEvent)) out.push(word as LegEvent);
    } else {
      ctx.warn(
        ErrorCodes.schemaValidation.code,
        `<${el.name}> statusCallbackEvent "${word}" is not one of ${EVENTS.join(" ")}; ignored`,
      );
    }
  }
  return out.length > 0 ? out : ["completed"];
}

export function absoluteUrl(
  raw: string | undefined,
  name: string,
  el: TwimlElement,
  ctx: ParseContext,
): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  try {
    const url = resolveUrl(raw.trim(), ctx.documentUrl);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // warned below
  }
  ctx.warn(ErrorCodes.invalidUrl.code, `<${el.name}> ${name}="${raw}" is not an http(s) URL; ignored`);
  return undefined;
}
