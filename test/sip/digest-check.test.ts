// Callers' digest authentication (RFC 3261 §22.2, RFC 2617 qop=auth): the challenge, and each way an
// answer is taken or refused. The answers are computed by our own client side (digest.ts), which is
// checked against the RFCs' examples in digest.test.ts.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SipUsers, SipUsersError } from "../../src/sip/sip-users.js";
import { authorization, parseChallenge } from "../../src/sip/ua/digest.js";
import { type ChallengedRequest, DigestCheck, NONCE_TTL_MS } from "../../src/sip/ua/digest-check.js";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const REALM = "sip.example.com";
const URI = "sip:+15551230001@sip.example.com";
const users = SipUsers.parse(
  `# callers\nalice:${REALM}:${md5(`alice:${REALM}:Correct1Horse`)}\nbob:other.example.com:${md5("bob:other.example.com:Battery2Staple")}\n`,
);

/** The challenge as the package would write it, read back as a phone reads it. */
function challengeOf(check: DigestCheck, realm = REALM, stale = false) {
  const header = check.challenge(realm, stale);
  const text = `Digest ${Object.entries(header)
    .filter(([k]) => k !== "scheme")
    .map(([k, v]) => `${k}=${v}`)
    .join(",")}`;
  return { text, challenge: parseChallenge(text) as NonNullable<ReturnType<typeof parseChallenge>> };
}

function invite(authorizationHeader?: string): ChallengedRequest {
  return {
    method: "INVITE",
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
    // Two challenges, two nonces.
    expect(challengeOf(check).challenge.nonce).not.toBe(challenge.nonce);
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
    expect(check.check(invite(header), REALM)).toEqual({ kind: "ok", user: "alice" });
    // The same Authorization again (heard on the wire) places no second call.
    expect(check.check(invite(header), REALM)).toMatchObject({ kind: "refused", why: /replay/ });
  });

  it("with a higher nonce count on the same nonce is taken", () => {
    const check = new DigestCheck(users);
    const { challenge } = challengeOf(check);
    const creds = { username: "alice", password: "Correct1Horse" };
    const first = authorization(challenge, creds, "INVITE", URI, { nc: 1 });
    const second = authorization(challenge, creds, "INVITE", URI, { nc: 2 });
    expect(check.check(invite(first), REALM).kind).toBe("ok");
    expect(check.check(invite(second), REALM).kind).toBe("ok");
    expect(check.check(invite(first), REALM).kind).toBe("refused");
  });

  it("with a wrong password, an unknown user or a user of another realm is refused", () => {
    const check = new DigestCheck(users);
    for (const header of [
      answer(check, "Wrong1Password"),
      answer(check, "Correct1Horse", { username: "mallory" }),
      answer(check, "Battery2Staple", { username: "bob" }),
    ])
      expect(check.check(invite(header), REALM)).toEqual({
        kind: "refused",
        why: "wrong user name or password",
      });
  });

  it("without qop=auth (RFC 2069), or with another algorithm, is refused", () => {
    const check = new DigestCheck(users);
    const { challenge } = challengeOf(check);
    const creds = { username: "alice", password: "Correct1Horse" };
    const noQop = authorization({ ...challenge, qop: undefined } as never, creds, "INVITE", URI);
    expect(check.check(invite(noQop), REALM)).toMatchObject({ kind: "refused", why: /qop=auth/ });
    const sha = authorization({ ...challenge, algorithm: "SHA-256" }, creds, "INVITE", URI);
    expect(check.check(invite(sha), REALM)).toMatchObject({ kind: "refused", why: /SHA-256/ });
  });

  it("for another realm, or none, is challenged", () => {
    const check = new DigestCheck(users);
    expect(check.check(invite(), REALM)).toEqual({ kind: "challenge", stale: false });
    const other = answer(check, "Battery2Staple", { username: "bob", realm: "other.example.com" });
    expect(check.check(invite(other), REALM)).toEqual({ kind: "challenge", stale: false });
    expect(check.check(invite(other), "other.example.com").kind).toBe("ok");
  });

  it("right but to an expired nonce, or to one another process issued, is challenged again as stale", () => {
    let now = 1_000_000;
    const check = new DigestCheck(users, () => now);
    const header = answer(check);
    now += NONCE_TTL_MS + 1;
    expect(check.check(invite(header), REALM)).toEqual({ kind: "challenge", stale: true });
    // A gateway restarted (another key): the phone's nonce is not ours, its password still right.
    const before = new DigestCheck(users, () => now);
    expect(check.check(invite(answer(before)), REALM)).toEqual({ kind: "challenge", stale: true });
    // A nonce made up to look fresh (a digest right for it) is not ours either.
    const { challenge } = challengeOf(check);
    const madeUp = {
      ...challenge,
      nonce: challenge.nonce.replace(/^[0-9a-z]+\./, `${(now + 5).toString(36)}.`),
    };
    const forged = authorization(madeUp, { username: "alice", password: "Correct1Horse" }, "INVITE", URI);
    expect(check.check(invite(forged), REALM)).toEqual({ kind: "challenge", stale: true });
    // A digest right for the nonce it was given, tampered with afterwards, is wrong.
    const tampered = answer(check).replace(/nonce="([0-9a-z]+)\./, `nonce="${(now + 5).toString(36)}.`);
    expect(check.check(invite(tampered), REALM)).toMatchObject({ kind: "refused" });
  });

  it("is not taken again once its nonce's count is forgotten among ten thousand newer ones", () => {
    let now = 1_000_000;
    const check = new DigestCheck(users, () => now);
    const first = answer(check);
    expect(check.check(invite(first), REALM).kind).toBe("ok");
    for (let i = 0; i < 10_000; i++) {
      now += 1;
      expect(check.check(invite(answer(check)), REALM).kind).toBe("ok");
    }
    // Its count is gone: the replay is challenged (a new nonce), not taken.
    expect(check.check(invite(first), REALM)).toEqual({ kind: "challenge", stale: true });
  });

  it("is read whether the header came as text or as the sip package parsed it", () => {
    const check = new DigestCheck(users);
    const text = answer(check);
    // The package's form: one object per header, values still quoted.
    const parsed: Record<string, string> = { scheme: "Digest" };
    for (const m of text.matchAll(/([a-z]+)=("[^"]*"|[^,\s]+)/g)) parsed[m[1] as string] = m[2] as string;
    expect(check.check({ ...invite(), headers: { authorization: [parsed] } }, REALM).kind).toBe("ok");
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
