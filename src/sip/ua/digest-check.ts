// Digest authentication of callers (RFC 3261 §22.2 with RFC 2617's qop=auth): the 401 challenge an
// INVITE from outside --allow gets, and the check of the Authorization it comes back with, against
// the users' HA1s (sip-users.ts). Our own answers to a trunk's challenge are digest.ts.
//
// Nonces are stateless (when issued, and an HMAC under a key of this process), so a flood of INVITEs
// costs no memory; what is kept is the highest nonce count seen for each nonce in use, so an
// Authorization heard on the wire is not taken a second time (RFC 2617 §3.2.2, `nc`), and as it signs
// the Request-URI it is not taken for another number either.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { SipUsers } from "../sip-users.js";
import { authHeaderTexts, digestParams } from "./digest.js";
import { sameSipUri } from "./uris.js";

/** How long a nonce is taken after it was issued; after it, a right answer gets a `stale` challenge. */
export const NONCE_TTL_MS = 5 * 60_000;
/** Nonces whose counts are remembered; the oldest are forgotten beyond it. */
const MAX_NONCES = 10_000;

export type DigestVerdict =
  | { kind: "ok"; user: string }
  /** Challenge (again): no answer for our realm, or a right one to a nonce that is stale or not ours. */
  | { kind: "challenge"; stale: boolean }
  /** A wrong answer (user, password, another request's): 403, and no second challenge. */
  | { kind: "refused"; why: string };

/** What of a request the check reads. */
export interface ChallengedRequest {
  method?: string;
  uri?: string;
  headers: { [name: string]: unknown };
}

export class DigestCheck {
  readonly #key = randomBytes(32);
  /** The highest `nc` taken for each nonce and when it was issued, the first used first. */
  readonly #counts = new Map<string, { count: number; issued: number }>();
  /** Nonces issued up to this time whose counts were forgotten: taken no more. */
  #forgottenUpTo = 0;

  constructor(
    private users: SipUsers,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whom the check takes from now on (a reloaded users file). */
  setUsers(users: SipUsers): void {
    this.users = users;
  }

  /** The realm to challenge a request to `host` in; undefined when there are no users (refuse it). */
  realmFor(host: string | undefined): string | undefined {
    return this.users.realmFor(host);
  }

  /** The HA1 of `user` in `realm` (what its password is now); undefined for no such user. */
  ha1Of(realm: string, user: string): string | undefined {
    return this.users.ha1(realm, user);
  }

  /**
   * The WWW-Authenticate header challenging a request in `realm` from `source` (its address): only an
   * answer from that address is taken, so a phone cannot fetch a challenge at its own address and
   * answer it from a forged one (a REGISTER binding someone else's host).
   */
  challenge(realm: string, stale: boolean, source: string): Record<string, string> {
    return {
      scheme: "Digest",
      realm: quote(realm),
      nonce: quote(this.#nonce(`${realm}:${source}`, this.now())),
      algorithm: "MD5",
      qop: quote("auth"),
      ...(stale && { stale: "TRUE" }),
    };
  }

  /** Checks the answer to a challenge in `realm`, from `source` (the address the request came from). */
  check(rq: ChallengedRequest, realm: string, source: string): DigestVerdict {
    const answer = authHeaderTexts(rq.headers.authorization)
      .map(digestParams)
      .find((p) => p?.realm === realm);
    if (!answer) return { kind: "challenge", stale: false };
    const { username, nonce, uri, response, nc, cnonce, qop } = answer;
    if (!username || !nonce || !uri || !response) return refused("its Authorization lacks a parameter");
    const algorithm = answer.algorithm ?? "MD5";
    if (algorithm.toUpperCase() !== "MD5")
      return refused(`algorithm ${algorithm.slice(0, 32)} was not offered (MD5)`);
    if (qop?.toLowerCase() !== "auth" || !/^[0-9a-f]{8}$/i.test(nc ?? "") || !cnonce)
      return refused("qop=auth with nc and cnonce is required");
    if (!/^[0-9a-f]{32}$/i.test(response)) return refused("its response is not an MD5 digest");
    // The answer signs its uri: it must name the Request-URI (RFC 2617 §3.2.2.5), or an answer for one
    // number, taken off the wire before it arrives, would place a call to another.
    if (!sameSipUri(uri, rq.uri ?? "")) return refused("its uri is not the Request-URI");
    const ha1 = this.users.ha1(realm, username);
    const ha2 = md5(`${rq.method ?? ""}:${uri}`);
    // An unknown user is checked against a made-up HA1, so the answer takes as long as a known one's.
    const expected = md5(`${ha1 ?? md5(nonce)}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(response.toLowerCase())) || ha1 === undefined)
      return refused("wrong user name or password");
    // A right answer to a nonce this process did not issue (before a restart) or issued too long ago:
    // challenged again with stale=TRUE, so the phone retries without asking its user (RFC 2617 §3.2.1).
    const issued = this.#issued(nonce, `${realm}:${source}`);
    const last = this.#counts.get(nonce)?.count;
    // A nonce whose count was forgotten (beyond MAX_NONCES) is stale too, or its answers could be replayed.
    if (issued === undefined || (last === undefined && issued <= this.#forgottenUpTo))
      return { kind: "challenge", stale: true };
    // A count used before is a replay, or a phone's concurrent calls arriving out of order: either
    // way a new nonce, which the phone answers and a replay cannot.
    const count = Number.parseInt(nc as string, 16);
    if (count <= (last ?? 0)) return { kind: "challenge", stale: true };
    this.#remember(nonce, issued, count);
    return { kind: "ok", user: username };
  }

  /** `issued.random.mac`: when, 96 random bits (so challenges in one millisecond differ), and our MAC. */
  /** `scope`: the realm and the address challenged, which the MAC binds the nonce to. */
  #nonce(scope: string, at: number): string {
    const body = `${at.toString(36)}.${randomBytes(12).toString("base64url")}`;
    return `${body}.${this.#mac(body, scope)}`;
  }

  #mac(body: string, scope: string): string {
    return createHmac("sha256", this.#key).update(`${body}:${scope}`).digest("base64url").slice(0, 22);
  }

  /** When a nonce of ours for `scope` was issued; undefined when it is not ours or has expired. */
  #issued(nonce: string, scope: string): number | undefined {
    const m = /^([0-9a-z]{1,11}\.[A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
    if (!m) return undefined;
    const [, body = "", mac = ""] = m;
    if (!timingSafeEqual(Buffer.from(this.#mac(body, scope)), Buffer.from(mac))) return undefined;
    const at = Number.parseInt(body, 36);
    const age = this.now() - at;
    return age >= 0 && age <= NONCE_TTL_MS ? at : undefined;
  }

  #remember(nonce: string, issued: number, count: number): void {
    this.#counts.set(nonce, { count, issued });
    if (this.#counts.size <= MAX_NONCES) return;
    const [oldest, first] = this.#counts.entries().next().value as [string, { issued: number }];
    this.#forgottenUpTo = Math.max(this.#forgottenUpTo, first.issued);
    this.#counts.delete(oldest);
  }
}

const refused = (why: string): DigestVerdict => ({ kind: "refused", why });
const quote = (s: string) => `"${s}"`;
// What came off the wire is latin1 (the stack decodes it so): its bytes are what the phone hashed.
const md5 = (s: string) => createHash("md5").update(s, "latin1").digest("hex");
