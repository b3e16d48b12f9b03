// The gateway as a registrar (RFC 3261 §10.3) for its digest users (`--digest-users`), as a Twilio SIP
// domain with SIP registration is: a phone REGISTERs with its user name and password, from anywhere
// (an --allow network too: a registration says where a user's calls go, so only the user may make
// it), and a <Dial><Sip>sip:user@realm</Sip> then rings it (outbound-legs.ts).

import { behindNat } from "./media/private-address.js";
import {
  type Binding,
  type ContactChange,
  MAX_EXPIRES_S,
  MIN_EXPIRES_S,
  passwordMark,
  type Registrations,
} from "./registrations.js";
import type { DigestCheck } from "./ua/digest-check.js";
import { rejection, response } from "./ua/responses.js";
import { type NameAddr, parseUri, type Remote, type SipMessage } from "./ua/stack.js";
import { decodeUser } from "./ua/uris.js";

/**
 * The longest registration of a phone whose Contact is not where its REGISTER came from (behind NAT):
 * a NAT forgets an idle UDP mapping within minutes, and the gateway sends no keep-alives, so the
 * phone refreshes (and so keeps its mapping) at least this often.
 */
export const MAX_NAT_EXPIRES_S = 120;

export interface RegistrarDeps {
  digest: DigestCheck;
  registrations: Registrations;
  /** Holds a TCP phone's connection while its binding lasts (the stack's `hold`). */
  hold(source: Remote, closed: () => void): { release(): void } | undefined;
}

/** The response to a REGISTER, and who registered, when one did. */
export interface RegisterOutcome {
  response: SipMessage;
  /** The address of record changed, and its Contacts now. */
  registered?: { aor: string; contacts: number };
  /** A wrong answer (user, password…): one guess more from its address. */
  failedAuthentication?: boolean;
}

/** Answers a REGISTER from `source`: 401 to authenticate, 403, 400, 423, 500, or 200 with the bindings. */
export function register(rq: SipMessage, source: Remote, deps: RegistrarDeps): RegisterOutcome {
  const { digest, registrations } = deps;
  const refuse = (status: number, text: string, headers?: Record<string, unknown>) => ({
    response: rejection(rq, status, text, headers),
  });
  const realm = digest.realmFor(parseUri(rq.uri ?? "")?.host);
  if (realm === undefined) return refuse(403, "No user may register here");
  const verdict = digest.check(rq, realm, source.address);
  if (verdict.kind === "challenge")
    return refuse(401, "Unauthorized", {
      "www-authenticate": [digest.challenge(realm, verdict.stale, source.address)],
    });
  if (verdict.kind === "refused")
    return { ...refuse(403, `Authentication failed: ${verdict.why}`), failedAuthentication: true };
  // A user registers its own address of record, whatever host its To names (the registrar's).
  const toUser = decodeUser(parseUri(rq.headers.to?.uri ?? "")?.user);
  if (toUser !== verdict.user)
    return refuse(403, `${verdict.user} may register only itself, not ${String(toUser).slice(0, 64)}`);
  const aor = `${verdict.user}@${realm}`;
  const from = { callId: rq.headers["call-id"], cseq: rq.headers.cseq.seq };

  const contacts = (rq.headers.contact as NameAddr[] | undefined) ?? [];
  // A malformed Expires is taken as the default (RFC 3261 §20.19).
  const headerExpires = seconds(rq.headers.expires);
  // The package reads `Contact: *` as one Contact whose URI is `*`.
  if (contacts.some((c) => c.uri === "*")) {
    if (contacts.length > 1) return refuse(400, "Contact: * stands alone");
    // Unregister everything: only with Expires: 0 (§10.3 step 6).
    if (headerExpires !== 0) return refuse(400, "Contact: * needs Expires: 0");
    const outOfOrder = registrations.clear(aor, from);
    if (outOfOrder) return refuse(500, outOfOrder);
    return { response: bound(rq, registrations, aor), registered: { aor, contacts: 0 } };
  }
  if (contacts.length === 0) return { response: bound(rq, registrations, aor) }; // a query

  const changes = new Map<string, ContactChange>(); // one change a Contact: the last written
  for (const c of contacts) {
    const uri = parseUri(c.uri);
    if (!uri) return refuse(400, `Contact ${c.uri.slice(0, 64)} is not a SIP URI`);
    const asked = seconds(c.params?.expires) ?? headerExpires ?? MAX_EXPIRES_S;
    if (asked > 0 && asked < MIN_EXPIRES_S)
      return refuse(423, "Interval Too Brief", { "min-expires": String(MIN_EXPIRES_S) });
    const natted = uri.host !== source.address && (behindNat(uri.host ?? "") || !uri.host);
    const longest = natted ? MAX_NAT_EXPIRES_S : MAX_EXPIRES_S;
    changes.set(c.uri, { contact: c.uri, expires: Math.min(asked, longest) });
  }
  const ha1 = digest.ha1Of(realm, verdict.user) as string;
  // Over TCP the binding holds its connection; when the phone closes it, the binding goes with it.
  const flow: Binding["flow"] = deps.hold(source, () => registrations.drop(aor, (b) => b.flow === flow));
  const updated = registrations.update(aor, [...changes.values()], {
    source,
    ...from,
    password: passwordMark(ha1),
    ...(flow && { flow }),
  });
  // An out-of-order REGISTER is 500 (§10.3 step 7).
  if (typeof updated === "string") {
    flow?.release();
    return refuse(500, updated);
  }
  // Held by no binding (every Contact unbound): let the connection go.
  if (flow && !updated.some((b) => b.flow === flow)) flow.release();
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

/** A delta-seconds value (a header's text or a parameter); undefined when absent or not one. */
function seconds(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}
