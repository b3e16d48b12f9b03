// The gateway as a registrar (RFC 3261 §10.3) for its digest users (`--digest-users`), as a Twilio SIP
// domain with SIP registration is: a phone REGISTERs with its user name and password, from anywhere
// (an --allow network too: a registration says where a user's calls go, so only the user may make
// it), and a <Dial><Sip>sip:user@realm</Sip> then rings it (outbound-legs.ts).

import { type ContactChange, MAX_EXPIRES_S, MIN_EXPIRES_S, type Registrations } from "./registrations.js";
import type { DigestCheck } from "./ua/digest-check.js";
import { rejection, response } from "./ua/responses.js";
import { type NameAddr, parseUri, type Remote, type SipMessage } from "./ua/stack.js";

/** The response to a REGISTER, and who registered, when one did. */
export interface RegisterOutcome {
  response: SipMessage;
  /** The address of record changed, and its Contacts now. */
  registered?: { aor: string; contacts: number };
}

/** Answers a REGISTER from `source`: 401 to authenticate, 403, 400, 423, 500, or 200 with the bindings. */
export function register(
  rq: SipMessage,
  source: Remote,
  digest: DigestCheck,
  registrations: Registrations,
): RegisterOutcome {
  const refuse = (status: number, text: string, headers?: Record<string, unknown>) => ({
    response: rejection(rq, status, text, headers),
  });
  const realm = digest.realmFor(parseUri(rq.uri ?? "")?.host);
  if (realm === undefined) return refuse(403, "No user may register here");
  const verdict = digest.check(rq, realm);
  if (verdict.kind === "challenge")
    return refuse(401, "Unauthorized", { "www-authenticate": [digest.challenge(realm, verdict.stale)] });
  if (verdict.kind === "refused") return refuse(403, `Authentication failed: ${verdict.why}`);
  // A user registers its own address of record, whatever host its To names (the registrar's).
  const toUser = parseUri(rq.headers.to?.uri ?? "")?.user;
  if (toUser !== verdict.user) return refuse(403, `${verdict.user} may register only itself, not ${toUser}`);
  const aor = `${verdict.user}@${realm}`;

  const contacts = rq.headers.contact as NameAddr[] | undefined;
  const headerExpires = seconds(rq.headers.expires);
  // The package reads `Contact: *` as one Contact whose URI is `*`.
  if (contacts?.some((c) => c.uri === "*")) {
    if (contacts.length > 1) return refuse(400, "Contact: * stands alone");
    // Unregister everything: only with Expires: 0 (§10.3 step 6).
    if (headerExpires !== 0) return refuse(400, "Contact: * needs Expires: 0");
    registrations.clear(aor);
    return { response: bound(rq, registrations, aor), registered: { aor, contacts: 0 } };
  }
  if (contacts === undefined || contacts.length === 0) return { response: bound(rq, registrations, aor) }; // a query

  const changes: ContactChange[] = [];
  for (const c of contacts) {
    if (!parseUri(c.uri)) return refuse(400, `Contact ${c.uri.slice(0, 64)} is not a SIP URI`);
    const asked = seconds(c.params?.expires) ?? headerExpires ?? MAX_EXPIRES_S;
    if (Number.isNaN(asked)) return refuse(400, "Expires is not a number");
    if (asked > 0 && asked < MIN_EXPIRES_S)
      return refuse(423, "Interval Too Brief", { "min-expires": String(MIN_EXPIRES_S) });
    changes.push({ contact: c.uri, expires: Math.min(asked, MAX_EXPIRES_S) });
  }
  const updated = registrations.update(aor, changes, {
    source,
    callId: rq.headers["call-id"],
    cseq: rq.headers.cseq.seq,
  });
  if (typeof updated === "string") {
    // An out-of-order REGISTER is 500 (§10.3 step 7); too many Contacts, refused as Twilio's limit.
    return updated.startsWith("CSeq") ? refuse(500, updated) : refuse(403, updated);
  }
  return { response: bound(rq, registrations, aor), registered: { aor, contacts: updated.length } };
}

/** 200 listing the address of record's bindings, each with what is left of its expiry (§10.3 step 8). */
function bound(rq: SipMessage, registrations: Registrations, aor: string): SipMessage {
  const now = registrations.now();
  const contacts = registrations.bindings(aor).map((b) => ({
    uri: b.contact,
    params: { expires: String(Math.max(0, Math.round((b.expiresAt - now) / 1000))) },
  }));
  const rs = response(rq, 200);
  // None bound: no Contact header (the package writes an empty list as `Contact: *`).
  if (contacts.length > 0) rs.headers.contact = contacts;
  else delete rs.headers.contact;
  return rs;
}

/** A delta-seconds value (a header's text or a parameter); undefined when absent, NaN when not a number. */
function seconds(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
}
