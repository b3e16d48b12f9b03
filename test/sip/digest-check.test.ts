// Callers' digest authentication (RFC 3261 §22.2, RFC 2617 qop=auth): the challenge, and each way an
// answer is taken or refused. The answers are computed by our own client side (digest.ts), which is
// checked against the RFCs' examples in digest.test.ts.
import { createHash } from "node:crypto";
import * as sip from "sip";
import { describe, expect, it } from "vitest";
import { SipUsers, SipUsersError } from "../../src/sip/sip-users.js";
import { authorization, parseChallenge } from "../../src/sip/ua/digest.js";
import { type ChallengedRequest, DigestCheck, NONCE_TTL_MS } from "../../src/sip/ua/digest-check.js";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const REALM = "sip.example.com";
/** The address the phone's requests come from. */
const PHONE = "192.0.2.10";
const URI = "sip:+15551230001@sip.example.com";
const users = SipUsers.parse(
  `# callers\nalice:${REALM}:${md5(`alice:${REALM}:Correct1Horse`)}\nbob:other.example.com:${md5("bob:other.example.com:Battery2Staple")}\n`,
);

/** The challenge as the package would write it, read back as a phone reads it. */
function challengeOf(check: DigestCheck, realm = REALM, stale = false) {
  const header = check.challenge(realm, stale, PHONE);
  const text = `Digest ${Object.entries(header)
    .filter(([k]) => k !== "scheme")
    .map(([k, v]) => `${k}=${v}`)
    .join(",")}`;
  return { text, challenge: parseChallenge(text) as NonNullable<ReturnType<typeof parseChallenge>> };
}

function invite(authorizationHeader?: string, uri = URI): ChallengedRequest {
  return {
    method: "INVITE",
    uri,
    headers: authorizationHeader ? { authorization: authorizationHeader } : {},
  };
}

function answer(
  check: DigestCheck,
  password = "Correct1Horse",
  opts: { username?: string; uri?: string; nc?: number; realm?: string } = {},
) {
  const { challenge } = challengeOf(check, opts.realm ?? REALM);
  return authorization(
    challenge,
    { username: opts.username ?? "alice", password },
    "INVITE",
    opts.uri ?? URI,
    { nc: opts.nc ?? 1 },
  );
}

describe("the challenge", () => {
  it("offers MD5 with qop=auth in the realm asked for, stale only when told", () => {
    const check = new DigestCheck(users);
    const { text, challenge } = challengeOf(check);
    expect(challenge).toMatchObject({ realm: REALM, algorithm: "MD5", qop: "auth" });
    expect(text).not.toMatch(/stale/);
    expect(challengeOf(check, REALM, true).text).toMatch(/stale=TRUE/);
    // Every challenge its own nonce, in the same millisecond too (phones answering at once count from 1).
    const nonces = new Set(Array.from({ length: 200 }, () => challengeOf(check).challenge.nonce));
    expect(nonces.size).toBe(200);
  });

  it("is in the Request-URI host's realm when the file has users there, else the file's first realm", () => {
    const check = new DigestCheck(users);
    expect(check.realmFor("other.example.com")).toBe("other.example.com");
    expect(check.realmFor("127.0.0.1")).toBe(REALM);
    expect(check.realmFor(undefined)).toBe(REALM);
  });
});

describe("an answer", () => {
  it("with the right password is taken, once", () => {
    const check = new DigestCheck(users);
    const header = answer(check);
    expect(check.check(invite(header), REALM, PHONE)).toEqual({ kind: "ok", user: "alice" });
    // The same Authorization again (heard on the wire) places no second call: a new nonce instead.
    expect(check.check(invite(header), REALM, PHONE)).toEqual({ kind: "challenge", stale: true });
  });

  it("with a higher nonce count on the same nonce is taken", () => {
    const check = new DigestCheck(users);
    const { challenge } = challengeOf(check);
    const creds = { username: "alice", password: "Correct1Horse" };
    const first = authorization(challenge, creds, "INVITE", URI, { nc: 1 });
    const second = authorization(challenge, creds, "INVITE", URI, { nc: 2 });
    expect(check.check(invite(first), REALM, PHONE).kind).toBe("ok");
    expect(check.check(invite(second), REALM, PHONE).kind).toBe("ok");
    expect(check.check(invite(first), REALM, PHONE)).toEqual({ kind: "challenge", stale: true });
  });

  it("with a wrong password, an unknown user or a user of another realm is refused", () => {
    const check = new DigestCheck(users);
    for (const header of [
      answer(check, "Wrong1Password"),
      answer(check, "Correct1Horse", { username: "mallory" }),
      answer(check, "Battery2Staple", { username: "bob" }),
    ])
      expect(check.check(invite(header), REALM, PHONE)).toEqual({
        kind: "refused",
        why: "wrong user name or password",
      });
  });

  it("for another Request-URI is refused, though its digest is right for its own uri", () => {
    const check = new DigestCheck(users);
    const header = answer(check, "Correct1Horse", { uri: "sip:+15559999999@sip.example.com" });
    expect(check.check(invite(header), REALM, PHONE)).toMatchObject({ kind: "refused", why: /Request-URI/ });
    // The same resource written otherwise (the host's case, a parameter) is the Request-URI.
    const same = answer(check, "Correct1Horse", { uri: "sip:+15551230001@SIP.example.com;transport=udp" });
    expect(check.check(invite(same), REALM, PHONE).kind).toBe("ok");
  });

  it("with a response that is not an MD5 digest, or a nonce not of our form, is refused or challenged", () => {
    const check = new DigestCheck(users);
    const header = answer(check);
    const latin = header.replace(/response="[0-9a-f]+"/, `response="${"\u00e9".repeat(32)}"`);
    expect(check.check(invite(latin), REALM, PHONE)).toMatchObject({ kind: "refused", why: /MD5 digest/ });
    // A nonce of ours with more after it (each its own count, if taken) is not ours.
    const { challenge } = challengeOf(check);
    const longer = { ...challenge, nonce: `${challenge.nonce}.x` };
    const creds = { username: "alice", password: "Correct1Horse" };
    expect(check.check(invite(authorization(longer, creds, "INVITE", URI)), REALM, PHONE)).toEqual({
      kind: "challenge",
      stale: true,
    });
  });

  it("of a stranger's 60 KB header is read at once and challenged", () => {
    const check = new DigestCheck(users);
    const started = performance.now();
    const verdict = check.check(invite(`Digest ${"a".repeat(60_000)}!=v, realm="${REALM}"`), REALM, PHONE);
    expect(performance.now() - started).toBeLessThan(50);
    expect(verdict).toEqual({ kind: "challenge", stale: false });
  });

  it("without qop=auth (RFC 2069), or with another algorithm, is refused", () => {
    const check = new DigestCheck(users);
    const { challenge } = challengeOf(check);
    const creds = { username: "alice", password: "Correct1Horse" };
    const noQop = authorization({ ...challenge, qop: undefined } as never, creds, "INVITE", URI);
    expect(check.check(invite(noQop), REALM, PHONE)).toMatchObject({ kind: "refused", why: /qop=auth/ });
    const sha = authorization({ ...challenge, algorithm: "SHA-256" }, creds, "INVITE", URI);
    expect(check.check(invite(sha), REALM, PHONE)).toMatchObject({ kind: "refused", why: /SHA-256/ });
  });

  it("for another realm, or none, is challenged", () => {
    const check = new DigestCheck(users);
    expect(check.check(invite(), REALM, PHONE)).toEqual({ kind: "challenge", stale: false });
    const other = answer(check, "Battery2Staple", { username: "bob", realm: "other.example.com" });
    expect(check.check(invite(other), REALM, PHONE)).toEqual({ kind: "challenge", stale: false });
    expect(check.check(invite(other), "other.example.com", PHONE).kind).toBe("ok");
  });

  it("right but to an expired nonce, or to one another process issued, is challenged again as stale", () => {
    let now = 1_000_000;
    const check = new DigestCheck(users, () => now);
    const header = answer(check);
    now += NONCE_TTL_MS + 1;
    expect(check.check(invite(header), REALM, PHONE)).toEqual({ kind: "challenge", stale: true });
    // A gateway restarted (another key): the phone's nonce is not ours, its password still right.
    const before = new DigestCheck(users, () => now);
    expect(check.check(invite(answer(before)), REALM, PHONE)).toEqual({ kind: "challenge", stale: true });
    // A nonce made up to look fresh (a digest right for it) is not ours either.
    const { challenge } = challengeOf(check);
    const madeUp = {
      ...challenge,
      nonce: challenge.nonce.replace(/^[0-9a-z]+\./, `${(now + 5).toString(36)}.`),
    };
    const forged = authorization(madeUp, { username: "alice", password: "Correct1Horse" }, "INVITE", URI);
    expect(check.check(invite(forged), REALM, PHONE)).toEqual({ kind: "challenge", stale: true });
    // A digest right for the nonce it was given, tampered with afterwards, is wrong.
    const tampered = answer(check).replace(/nonce="([0-9a-z]+)\./, `nonce="${(now + 5).toString(36)}.`);
    expect(check.check(invite(tampered), REALM, PHONE)).toMatchObject({ kind: "refused" });
  });

  it("is not taken again once its nonce's count is forgotten among ten thousand newer ones", () => {
    let now = 1_000_000;
    const check = new DigestCheck(users, () => now);
    const first = answer(check);
    expect(check.check(invite(first), REALM, PHONE).kind).toBe("ok");
    for (let i = 0; i < 10_000; i++) {
      now += 1;
      expect(check.check(invite(answer(check)), REALM, PHONE).kind).toBe("ok");
    }
    // Its count is gone: the replay is challenged (a new nonce), not taken.
    expect(check.check(invite(first), REALM, PHONE)).toEqual({ kind: "challenge", stale: true });
  });

  it("from another address than the one challenged is challenged again, not taken", () => {
    const check = new DigestCheck(users);
    const header = answer(check);
    expect(check.check(invite(header), REALM, "198.51.100.66")).toEqual({ kind: "challenge", stale: true });
    expect(check.check(invite(header), REALM, PHONE).kind).toBe("ok");
  });

  it("is read as the sip package parses it: quoted commas, escaped quotes, several headers", () => {
    const check = new DigestCheck(users);
    const { challenge } = challengeOf(check);
    const creds = { username: "alice", password: "Correct1Horse" };
    const withCnonce = authorization(challenge, creds, "INVITE", URI, { cnonce: 'a,b"c' });
    expect(withCnonce).toContain('cnonce="a,b\\"c"');
    const message = sip.parse(
      [
        `INVITE ${URI} SIP/2.0`,
        "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK1",
        "From: <sip:alice@127.0.0.2>;tag=1",
        `To: <${URI}>`,
        "Call-ID: 1@127.0.0.2",
        "CSeq: 2 INVITE",
        'Authorization: Digest username="bob", realm="other.example.com", nonce="x", uri="sip:a", response="00"',
        `Authorization: ${withCnonce}`,
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    );
    expect(check.check(message as ChallengedRequest, REALM, PHONE)).toEqual({ kind: "ok", user: "alice" });
  });
});

describe("the users file (htdigest)", () => {
  it("reads user:realm:HA1 lines, skipping blanks and comments", () => {
    expect(users.size).toBe(2);
    expect(users.ha1(REALM, "alice")).toBe(md5(`alice:${REALM}:Correct1Horse`));
    expect(users.ha1(REALM, "bob")).toBeUndefined();
  });

  it("reads a file without users (all removed) as admitting no one", () => {
    const none = SipUsers.parse("# everyone was removed\n");
    expect(none.size).toBe(0);
    expect(new DigestCheck(none).realmFor("sip.example.com")).toBeUndefined();
  });

  it.each([
    ["alice:realm", /line 1: expected user:realm:HA1/],
    ["alice:realm:abc", /line 1: the HA1 is not 32 hex digits/],
    [`\n\nal ice:realm:${"0".repeat(32)}`, /line 3: user "al ice"/],
    [`a:r:${"0".repeat(32)}\na:r:${"1".repeat(32)}`, /line 2: user "a" is in realm "r" twice/],
  ])("refuses %j", (text, why) => {
    expect(() => SipUsers.parse(text)).toThrow(SipUsersError);
    expect(() => SipUsers.parse(text)).toThrow(why);
  });
});
