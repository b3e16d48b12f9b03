// A URL in a TwiML document, resolved against the document's own URL. A document given as `Twiml`
// (REST) has none (documentUrl ""): there an absolute URL stands alone, and a relative one cannot be
// resolved (the caller reports 11100).
export function resolveUrl(raw: string, documentUrl: string): URL {
  return documentUrl === "" ? new URL(raw) : new URL(raw, documentUrl);
}

/** The end of an 11100 message for a URL that did not resolve: why, in the document's case. */
export function unresolvedBecause(documentUrl: string): string {
  return documentUrl === ""
    ? "a document given as Twiml has no URL for a relative one to resolve against; give an absolute URL"
    : `it does not resolve against ${documentUrl}`;
}
