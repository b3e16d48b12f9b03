// A SIP message's X- headers as webhooks pass them (SipHeader_<name>, DialSipHeader_<name>): names in
// canonical case, and bounded, so a hostile peer cannot push megabytes of headers into a request.
import type { SipMessage } from "./ua/stack.js";

/** Longest header name and value passed on; longer ones are dropped (the wire schemas' bounds). */
export const MAX_X_NAME = 128;
export const MAX_X_VALUE = 1024;

/** The X- headers of `msg`, names in canonical case (`X-Customer-Id`), values as received. */
export function xHeadersOf(msg: Pick<SipMessage, "headers">): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(msg.headers)) {
    if (name.startsWith("x-") && typeof value === "string") out[canonical(name)] = value;
  }
  return out;
}

/**
 * The headers that fit: each within MAX_X_NAME/MAX_X_VALUE (longer ones skipped), then, in the order
 * received, at most `maxCount` of them and `maxBytes` of names and values in all.
 */
export function fitHeaders(
  headers: Record<string, string>,
  limits: { maxBytes: number; maxCount?: number },
): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (name.length > MAX_X_NAME || value.length > MAX_X_VALUE) continue;
    bytes += name.length + value.length;
    if (bytes > limits.maxBytes || ++count > (limits.maxCount ?? Number.POSITIVE_INFINITY)) break;
    out[name] = value;
  }
  return out;
}

/** `x-customer-id` -> `X-Customer-Id`: the package lower-cases header names. */
function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}
