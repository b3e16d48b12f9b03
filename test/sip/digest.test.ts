// Digest answers checked against the RFCs' own worked examples (RFC 2617 §3.5, RFC 7616 §3.9.1).
import { describe, expect, it } from "vitest";
import { authorization, parseChallenge } from "../../src/sip/ua/digest.js";

const field = (header: string, name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(header)?.[1];

describe("digest authentication", () => {
  it("answers RFC 2617's example (MD5, qop=auth)", () => {
    const challenge = parseChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(challenge).toBeDefined();
    const header = authorization(
      challenge as NonNullable<typeof challenge>,
      { username: "Mufasa", password: "Circle Of Life" },
      "GET",
      "/dir/index.html",
      { cnonce: "0a4f113b", nc: 1 },
    );
    expect(field(header, "response")).toBe("6629fae49393a05397450978507c4ef1");
    expect(field(header, "qop")).toBe("auth");
    expect(field(header, "nc")).toBe("00000001");
    expect(field(header, "opaque")).toBe("5ccc069c403ebaf9f0171e9517f40e41");
  });

  it("answers RFC 7616's examples (MD5 and SHA-256)", () => {
    const base = {
      realm: "http-auth@example.org",
      qop: "auth, auth-int",
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    };
    const creds = { username: "Mufasa", password: "Circle of Life" };
    const opts = { cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nc: 1 };
    const md5 = authorization({ ...base, algorithm: "MD5" }, creds, "GET", "/dir/index.html", opts);
    expect(field(md5, "response")).toBe("8ca523f5e9506fed4657c9700eebdbec");
    const sha = authorization({ ...base, algorithm: "SHA-256" }, creds, "GET", "/dir/index.html", opts);
    expect(field(sha, "response")).toBe("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  });

  it("answers a challenge without qop as RFC 2069 did, and refuses an unknown algorithm", () => {
    const header = authorization(
      { realm: "r", nonce: "n" },
      { username: "u", password: "p" },
      "INVITE",
      "sip:+15551234567@trunk",
    );
    expect(header).not.toMatch(/qop=|cnonce=/);
    expect(() =>
      authorization(
        { realm: "r", nonce: "n", algorithm: "SHA-512" },
        { username: "u", password: "p" },
        "INVITE",
        "sip:x@y",
      ),
    ).toThrow(/unsupported/);
    expect(parseChallenge('Basic realm="x"')).toBeUndefined();
  });
});
