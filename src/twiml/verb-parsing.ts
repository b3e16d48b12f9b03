// Checks shared by the verb parsers: unknown attributes, unexpected children, loop counts and body URLs.
// Each reports a warning and lets the call carry on, as Twilio's 12200/13xxx warnings do.
import { ErrorCodes } from "../errors/codes.js";
import type { TwimlElement } from "./element.js";
import { resolveUrl, unresolvedBecause } from "./resolve-url.js";
import type { ParseContext } from "./verb-definition.js";

const schema = ErrorCodes.schemaValidation.code;

/** Twilio's limit for `loop="0"` ("until hang-up"). */
export const LOOP_FOREVER = 1000;

/** Warns about each attribute not in `allowed`; those are ignored. */
export function checkAttributes(el: TwimlElement, allowed: readonly string[], ctx: ParseContext): void {
  for (const name of Object.keys(el.attributes)) {
    if (!allowed.includes(name)) ctx.warn(schema, `<${el.name}> has no attribute "${name}"; ignored`);
  }
}

/** Warns about each child element not named in `allowed`; those are ignored. */
export function checkChildElements(
  el: TwimlElement,
  ctx: ParseContext,
  allowed: readonly string[] = [],
): void {
  for (const child of el.children) {
    if (typeof child !== "string" && !allowed.includes(child.name)) {
      ctx.warn(schema, `<${child.name}> is not allowed inside <${el.name}>; ignored`, child);
    }
  }
}

/** Warns when an element that takes no body has text in it (whitespace is fine). */
export function checkNoText(el: TwimlElement, ctx: ParseContext): void {
  if (directText(el).trim() !== "") ctx.warn(schema, `<${el.name}> takes no text; ignored`);
}

/** The element's own text, without that of its child elements (which are warned about and ignored). */
export function directText(el: TwimlElement): string {
  return el.children.filter((child) => typeof child === "string").join("");
}

/**
 * The `loop` attribute: 1 when absent, Twilio's cap for 0; anything but a non-negative integer is
 * warned about with `code` and plays once.
 */
export function parseLoop(el: TwimlElement, ctx: ParseContext, code: number): number {
  const raw = el.attributes.loop;
  if (raw === undefined) return 1;
  const loop = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(loop)) {
    ctx.warn(code, `<${el.name}> loop="${raw}" is not a non-negative integer; using 1`);
    return 1;
  }
  return loop === 0 ? LOOP_FOREVER : loop;
}

/**
 * The body as an absolute URL, resolved against the document URL. Surrounding whitespace is not part of
 * it (hand-written TwiML often puts the URL on its own line). Undefined, after a warning, when the body
 * is empty (12200) or does not make an http(s) URL (11100).
 */
export function bodyUrl(el: TwimlElement, ctx: ParseContext): string | undefined {
  const body = directText(el).trim();
  if (body === "") {
    ctx.warn(schema, `<${el.name}> needs a URL as its body; skipped`);
    return undefined;
  }
  let url: URL;
  try {
    url = resolveUrl(body, ctx.documentUrl);
  } catch {
    ctx.warn(
      ErrorCodes.invalidUrl.code,
      `<${el.name}> URL "${body}" skipped: ${unresolvedBecause(ctx.documentUrl)}`,
    );
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.warn(ErrorCodes.invalidUrl.code, `<${el.name}> URL "${body}" is not http or https; skipped`);
    return undefined;
  }
  return url.href;
}
