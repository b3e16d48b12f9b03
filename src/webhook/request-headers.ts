// The headers of one hop of a webhook request, as Twilio sends them: signed for that hop's URL, with
// the call's cookies, Basic credentials from the URL, and the caller's extra headers where allowed.
import type { CookieJar } from "./cookies.js";
import { type SigningKey, signatureSettingsHeader, signatureUrl, twilioSignature } from "./sign.js";

// Set by switchboard or by undici: a caller's extra headers cannot replace them.
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive"]);

export interface Hop {
  url: URL;
  method: "GET" | "POST";
  body: string | undefined;
}

export interface Signer {
  /** The form parameters (signed for POST; for GET they are in the URL already). */
  params: Record<string, string>;
  authToken: string;
  signingKey?: SigningKey;
  headers?: Record<string, string>;
  /** I-Twilio-Idempotency-Token: the same on every hop and attempt. */
  token: string;
  jar: CookieJar;
}

export function headersFor(hop: Hop, s: Signer): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(s.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  const signed = signatureUrl(hop.url.href);
  const params = hop.method === "POST" ? s.params : {};
  const key = s.signingKey;
  headers["x-twilio-signature"] = key
    ? twilioSignature(key.secret, signed, params, key.algorithm)
    : twilioSignature(s.authToken, signed, params);
  if (key) headers["x-twilio-webhooks-signature-settings"] = signatureSettingsHeader(key);
  headers["i-twilio-idempotency-token"] = s.token;
  headers["user-agent"] = "TwilioProxy/1.1";
  headers.accept = "*/*";
  if (hop.body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  else delete headers["content-type"];
  const cookie = s.jar.header(hop.url);
  if (cookie !== undefined) headers.cookie = cookie;
  if (hop.url.username !== "" || hop.url.password !== "") {
    const creds = `${percentDecoded(hop.url.username)}:${percentDecoded(hop.url.password)}`;
    headers.authorization = `Basic ${Buffer.from(creds).toString("base64")}`;
  }
  return headers;
}

function percentDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
