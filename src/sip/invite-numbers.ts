// The numbers an INVITE carries, as the offer to an edge gives them: the called number (the
// Request-URI's user part) and the caller (the From's).
import type { InviteInfo } from "./dialogs.js";

/**
 * The called number as dialled, made E.164: a telephone-subscriber user part (RFC 3261 §19.1.6,
 * RFC 3966) loses its parameters (a US carrier's number-portability `;npdi;rn=…`, RFC 4694) and its
 * visual separators (`+1-415-555-1234`), and gets `+` where it lacks one.
 */
export function e164(user: string): string {
  const number = (user.split(";")[0] ?? "").replace(/[-.()]/g, "");
  return number.startsWith("+") ? number : `+${number}`;
}

/** The caller: a number from the From user part (made E.164), else the From SIP URI without params. */
export function callerId(dialog: Pick<InviteInfo, "fromUser" | "fromUri">): string {
  if (/^\+?\d{2,15}$/.test(e164(dialog.fromUser))) return e164(dialog.fromUser);
  const uri = dialog.fromUri.split(";")[0] ?? dialog.fromUri;
  return uri.startsWith("sip:") && uri.length < 255 ? uri : "anonymous";
}
