// A message's body against its Content-Length (RFC 3261 §18.3, §20.14). The `sip` package keeps a
// UDP message whose Content-Length is larger than its body (it cuts the length down instead) and,
// with `Content-Length: 0` or a value that is not a number, takes the rest of the datagram as the
// body. §18.3: such a request is answered 400 and such a response discarded; bytes after the body
// are not part of it.

/**
 * Cuts the body to its Content-Length (a datagram may carry bytes after it) and says what is wrong
 * with the framing, if anything. No Content-Length over UDP: the body is the rest of the datagram.
 */
export function frameBody(m: { headers: Record<string, unknown>; content?: string }): string | undefined {
  const length = m.headers["content-length"];
  if (length === undefined) return undefined;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0)
    return "Malformed Content-Length";
  // The package reads the body as a binary string: one character a byte.
  const body = m.content ?? "";
  if (body.length < length) return `Content-Length ${length} is larger than the body (${body.length} bytes)`;
  if (body.length > length) m.content = body.slice(0, length);
  return undefined;
}
