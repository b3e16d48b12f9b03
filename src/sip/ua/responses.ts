// Responses the gateway sends: each status with its RFC 3261 reason phrase, and every rejection with
// a Reason header (RFC 3326) saying why, so the far end's logs show the cause and not only a code.
import { randomBytes } from "node:crypto";
import { makeResponse, type SipMessage } from "./stack.js";

const PHRASES: Record<number, string> = {
  100: "Trying",
  180: "Ringing",
  183: "Session Progress",
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  416: "Unsupported URI Scheme",
  420: "Bad Extension",
  422: "Session Interval Too Small",
  423: "Interval Too Brief",
  480: "Temporarily Unavailable",
  481: "Call/Transaction Does Not Exist",
  482: "Loop Detected",
  486: "Busy Here",
  487: "Request Terminated",
  488: "Not Acceptable Here",
  491: "Request Pending",
  500: "Server Internal Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  603: "Decline",
};

/**
 * The methods the gateway takes (Allow, RFC 3261 §20.5). NOTIFY: the reports on a REFER it sent
 * (`<Refer>`, RFC 3515); one for no subscription of its own gets 481.
 */
export const ALLOW = "INVITE, ACK, CANCEL, BYE, INFO, OPTIONS, UPDATE, NOTIFY";
/** The extensions it supports (RFC 4028 session timers); any other in a Require gets 420. */
export const SUPPORTED = ["timer"] as const;

export function phrase(status: number): string {
  return PHRASES[status] ?? (status < 300 ? "OK" : "Error");
}

/** A response with its reason phrase. */
export function response(rq: SipMessage, status: number, headers: Record<string, unknown> = {}): SipMessage {
  const rs = makeResponse(rq, status, phrase(status));
  // Every response but 100 carries a To-tag (§8.2.6.2). A dialog's own responses get the dialog's
  // (their request has it, or the dialog sets it); a refusal outside any call gets one of its own.
  const to = rs.headers.to;
  if (status > 100 && to && to.params?.tag === undefined) {
    rs.headers.to = { ...to, params: { ...to.params, tag: randomBytes(4).toString("hex") } };
  }
  Object.assign(rs.headers, headers);
  return rs;
}

/** A final failure with a Reason header: `SIP ;cause=488 ;text="SRTP is not supported"`. */
export function rejection(
  rq: SipMessage,
  status: number,
  text = phrase(status),
  headers: Record<string, unknown> = {},
): SipMessage {
  return response(rq, status, {
    reason: `SIP ;cause=${status} ;text="${text.replace(/["\\\r\n]/g, "'")}"`,
    ...headers,
  });
}

/** Extensions a request requires that the gateway does not support (RFC 3261 §8.2.2.3). */
export function unsupportedRequire(rq: SipMessage): string[] {
  const require = rq.headers.require;
  if (typeof require !== "string") return [];
  return require
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "" && !(SUPPORTED as readonly string[]).includes(t));
}
