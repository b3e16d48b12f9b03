// Attribute readers shared by verbs (<Gather>, <Record>, <Enqueue>, <Dial>'s Conference and Queue). Each warns (12200
// unless a verb's own code is given) and falls back to the default, as Twilio's parser does.
import { ErrorCodes } from "../errors/codes.js";
import type { HttpMethod } from "../model/http.js";
import type { TwimlElement } from "./element.js";
import { resolveUrl } from "./resolve-url.js";
import type { ParseContext } from "./verb-definition.js";

const schema = ErrorCodes.schemaValidation.code;

/** An absolute http(s) URL resolved against the document, "" kept as "", undefined when absent or bad. */
export function urlAttribute(el: TwimlElement, name: string, ctx: ParseContext): string | undefined {
  const raw = el.attributes[name];
  if (raw === undefined) return undefined;
  if (raw.trim() === "") return "";
  try {
    const url = resolveUrl(raw.trim(), ctx.documentUrl);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // reported below
  }
  ctx.warn(ErrorCodes.invalidUrl.code, `<${el.name}> ${name}="${raw}" is not an http(s) URL; ignored`);
  return undefined;
}

export function methodAttribute(
  el: TwimlElement,
  name: string,
  fallback: HttpMethod,
  ctx: ParseContext,
): HttpMethod {
  const raw = el.attributes[name];
  if (raw === undefined || raw === "") return fallback;
  const upper = raw.toUpperCase();
  if (upper === "GET" || upper === "POST") return upper;
  ctx.warn(schema, `<${el.name}> ${name}="${raw}" is not GET or POST; using ${fallback}`);
  return fallback;
}

/** `true` or `false`; anything else is reported with `code` (12200 unless the verb has its own). */
export function booleanAttribute(
  el: TwimlElement,
  name: string,
  fallback: boolean,
  ctx: ParseContext,
  code: number = schema,
): boolean {
  const raw = el.attributes[name];
  if (raw === undefined) return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  ctx.warn(code, `<${el.name}> ${name}="${raw}" is not true or false; using ${fallback}`);
  return fallback;
}

/** A whole number in [min, max]; the fallback (after a warning) otherwise. */
export function intAttribute(
  el: TwimlElement,
  name: string,
  fallback: number,
  range: { min: number; max: number },
  ctx: ParseContext,
): number {
  const raw = el.attributes[name];
  if (raw === undefined) return fallback;
  const n = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (Number.isSafeInteger(n) && n >= range.min && n <= range.max) return n;
  ctx.warn(
    schema,
    `<${el.name}> ${name}="${raw}" is not a whole number from ${range.min} to ${range.max}; using ${fallback}`,
  );
  return fallback;
}
