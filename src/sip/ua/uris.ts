// SIP URIs as the gateway compares and reads them: one resource however written (RFC 3261 §19.1.4),
// and a user part as its user wrote it.
import { parseUri } from "./stack.js";

/**
 * Whether two SIP URIs name one resource (RFC 3261 §19.1.4): scheme, user and port exactly, the host
 * without case, and a transport parameter only when both have one (a parameter in one URI alone is
 * ignored). Other parameters aside: the gateway compares a digest's uri with its Request-URI, and
 * a phone's Contacts with one another.
 */
export function sameSipUri(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseUri(a);
  const y = parseUri(b);
  if (!x || !y) return false;
  const tx = x.params?.transport;
  const ty = y.params?.transport;
  return (
    (x.schema ?? "").toLowerCase() === (y.schema ?? "").toLowerCase() &&
    (x.user ?? "") === (y.user ?? "") &&
    (x.host ?? "").toLowerCase() === (y.host ?? "").toLowerCase() &&
    String(x.port) === String(y.port) &&
    (tx == null || ty == null || String(tx).toLowerCase() === String(ty).toLowerCase())
  );
}

/** A URI's user part as its user wrote it (`%40` → `@`); undefined when it does not decode. */
export function decodeUser(user: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  try {
    return decodeURIComponent(user);
  } catch {
    return undefined;
  }
}
