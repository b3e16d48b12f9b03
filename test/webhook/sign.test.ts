import { createHash } from "node:crypto";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { parseConnectionOverrides } from "../../src/webhook/connection-overrides.js";
import { signatureUrl, twilioSignature } from "../../src/webhook/sign.js";

const TOKEN = "12345";
const VOICE = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+14158675310",
  Digits: "1234",
  From: "+14158675310",
  To: "+18005551212",
};

describe("twilioSignature: published vectors", () => {
  it("signs the spec's vector", () => {
    const url = "https://example.com/myapp.php?foo=1&bar=2";
    expect(twilioSignature(TOKEN, url, VOICE)).toBe("L/OH5YylLD5NRKLltdqwSvS0BnU=");
  });

  it("signs twilio-node's own vector (mycompany.com, +14158675309)", () => {
    const params = { ...VOICE, Caller: "+14158675309", From: "+14158675309" };
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(twilioSignature(TOKEN, url, params)).toBe("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  });

  it("signs a bodySHA256 URL with no params", () => {
    const hash = createHash("sha256").update('{"property": "value", "boolean": true}').digest("hex");
    expect(hash).toMatch(/^0a1ff763.*e6620$/);
    const url = `https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=${hash}`;
    expect(twilioSignature(TOKEN, url, {})).toBe("a9nBmqA0ju/hNViExpshrM61xv4=");
  });

  it("orders params by name, case-sensitively, whatever the insertion order", () => {
    const a = twilioSignature(TOKEN, "https://x.test/", { b: "2", B: "1", a: "3" });
    const b = twilioSignature(TOKEN, "https://x.test/", { a: "3", b: "2", B: "1" });
    expect(a).toBe(b);
    expect(a).toBe(twilio.getExpectedTwilioSignature(TOKEN, "https://x.test/", { a: "3", b: "2", B: "1" }));
  });

  it("dedupes and sorts array values as twilio-node does", () => {
    const params = { Tag: ["b", "a", "b"], Single: "x" };
    const sig = twilioSignature(TOKEN, "https://x.test/hook", params);
    expect(sig).toBe(twilio.getExpectedTwilioSignature(TOKEN, "https://x.test/hook", params));
    expect(sig).toBe(twilioSignature(TOKEN, "https://x.test/hook", { Single: "x", Tag: ["a", "b"] }));
  });

  it("changes when any param changes", () => {
    const url = "https://example.com/myapp.php?foo=1&bar=2";
    expect(twilioSignature(TOKEN, url, { ...VOICE, Digits: "1235" })).not.toBe(
      "L/OH5YylLD5NRKLltdqwSvS0BnU=",
    );
  });
});

describe("signatureUrl", () => {
  it("drops the fragment of connection overrides", () => {
    expect(signatureUrl("https://example.com/a?b=1#ct=1000&rc=2")).toBe("https://example.com/a?b=1");
  });
  it("drops user:password, and the port over https", () => {
    expect(signatureUrl("https://user:pw@example.com:8443/a?b=1")).toBe("https://example.com/a?b=1");
  });
  it("keeps the port over http", () => {
    expect(signatureUrl("http://user:pw@example.com:8080/a")).toBe("http://example.com:8080/a");
  });
  it("serializes as sent on the wire", () => {
    expect(signatureUrl("https://Example.COM/a b/ü?q=a b&n='x'")).toBe(
      "https://example.com/a%20b/%C3%BC?q=a%20b&n=%27x%27",
    );
  });
  it("rejects what is not a URL with 11100", () => {
    expect(() => signatureUrl("not a url")).toThrow(SwitchboardError);
    expect(() => signatureUrl("not a url")).toThrow(expect.objectContaining({ code: 11100 }));
  });
});

// A receiver either validates against the URL it was configured with, or rebuilds the URL from what
// arrived (protocol + Host + request target, as twilio-node's validateIncomingRequest does).
const URLS = [
  "https://example.com/myapp.php?foo=1&bar=2",
  "https://example.com:8443/voice?x=1#ct=1000&rt=2000",
  "http://example.com:8080/voice",
  "http://example.com/voice",
  "https://example.com/a path/ü?name=O'Brien&q=a b&pct=50%25",
  "https://example.com/",
];

function asReceived(configured: string): string {
  const u = new URL(configured);
  u.hash = "";
  return u.href;
}

describe("twilio.validateRequest accepts what switchboard signs", () => {
  const params = { ...VOICE, SpeechResult: "Hello, world & 'friends' ü", Empty: "" };

  for (const configured of URLS) {
    it(`POST ${configured}`, () => {
      const sig = twilioSignature(TOKEN, signatureUrl(configured), params);
      expect(twilio.validateRequest(TOKEN, sig, asReceived(configured), params)).toBe(true);
      expect(twilio.validateRequest(TOKEN, sig, configured.split("#")[0] ?? "", params)).toBe(true);
      expect(twilio.validateRequest(TOKEN, sig, asReceived(configured), { ...params, Digits: "9" })).toBe(
        false,
      );
      expect(twilio.validateRequest("54321", sig, asReceived(configured), params)).toBe(false);
    });

    it(`GET ${configured}`, () => {
      const u = new URL(configured);
      u.hash = "";
      const form = new URLSearchParams(params).toString();
      u.search = u.search ? `${u.search}&${form}` : `?${form}`;
      const sig = twilioSignature(TOKEN, signatureUrl(u.href), {});
      expect(twilio.validateRequest(TOKEN, sig, u.href, {})).toBe(true);
      expect(twilio.validateRequest(TOKEN, sig, u.href.replace("Digits=1234", "Digits=9"), {})).toBe(false);
    });
  }

  it("user:password is not signed (Twilio drops it); the URL rebuilt from Host validates", () => {
    const sig = twilioSignature(TOKEN, signatureUrl("https://u:p@example.com/v"), params);
    expect(twilio.validateRequest(TOKEN, sig, "https://example.com/v", params)).toBe(true);
  });
});

describe("parseConnectionOverrides", () => {
  it("has Twilio's defaults without a fragment", () => {
    const o = parseConnectionOverrides("https://example.com/a?ct=1");
    expect(o).toMatchObject({
      connectTimeoutMs: 5000,
      readTimeoutMs: 15000,
      totalTimeoutMs: 15000,
      retryCount: 1,
    });
    expect([...o.retryPolicy]).toEqual(["ct"]);
  });

  it("reads every key", () => {
    const o = parseConnectionOverrides("https://x/y?q=1#ct=1000&rt=5000&tt=9000&rc=2&rp=ct,rt&e=ashburn");
    expect(o).toMatchObject({
      connectTimeoutMs: 1000,
      readTimeoutMs: 5000,
      totalTimeoutMs: 9000,
      retryCount: 2,
    });
    expect([...o.retryPolicy].sort()).toEqual(["ct", "rt"]);
  });

  it("clamps out-of-range values, hard-capping the total at 15 s", () => {
    const o = parseConnectionOverrides("#ct=20000&rt=1&tt=60000&rc=9");
    expect(o).toMatchObject({
      connectTimeoutMs: 10000,
      readTimeoutMs: 100,
      totalTimeoutMs: 15000,
      retryCount: 5,
    });
    expect(parseConnectionOverrides("ct=50&rc=-3")).toMatchObject({ connectTimeoutMs: 100, retryCount: 0 });
  });

  it("keeps defaults for junk numbers, and expands all", () => {
    const o = parseConnectionOverrides("https://x/#ct=abc");
    expect(o.connectTimeoutMs).toBe(5000);
    expect([...o.retryPolicy]).toEqual(["ct"]);
    expect(o.refused).toBeUndefined();
    const all = parseConnectionOverrides("https://x/#rp=all").retryPolicy;
    expect(["4xx", "5xx", "ct", "rt"].every((p) => all.has(p as "ct"))).toBe(true);
  });

  it.each([
    ["rp=bogus", "invalidRetryPolicy"],
    ["rp=ct,5xx,sometimes", "invalidRetryPolicy"],
    ["rp=", "invalidRetryPolicy"],
    ["e=atlantis", "invalidEdge"],
    ["e=ashburn,nowhere", "invalidEdge"],
    ["e=roaming", "unsupportedEdge"],
    ["e=london-ix", "interconnectNotAllowed"],
  ])("refuses %s as Twilio does (%s)", (fragment, condition) => {
    expect(parseConnectionOverrides(`https://x/#${fragment}`).refused?.condition).toBe(condition);
  });

  it("takes every edge a webhook can leave from", () => {
    const edges = "ashburn,umatilla,dublin,frankfurt,sao-paulo,singapore,tokyo,sydney";
    expect(parseConnectionOverrides(`https://x/#e=${edges}&rp=4xx,5xx`).refused).toBeUndefined();
  });
});
