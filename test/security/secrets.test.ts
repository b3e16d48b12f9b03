// Where secrets may and may not leave: the REST API returns an account's auth token only to that
// account (as Twilio's Account resource does) and never a signing secret; refusals echo no
// credentials; inspection events carry no URL credentials.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { newSid } from "../../src/model/sid.js";
import { withoutCredentials } from "../../src/region/inspect/inspector.js";
import { type ApiStack, startApiStack } from "./api-stack.js";

let stack: ApiStack;
const signed = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
const SIGNING_SECRET = randomBytes(24).toString("hex");

beforeAll(async () => {
  stack = await startApiStack({
    setup: async (global) => {
      await addAccount(global, {
        sid: signed.sid,
        token: signed.token,
        signingKey: {
          sid: `SK${randomBytes(16).toString("hex")}`,
          secret: SIGNING_SECRET,
          algorithm: "HMAC_SHA256",
        },
      });
    },
  });
});
afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const fetchAccount = (sid: string, as: { sid: string; token: string }) =>
  stack.send("GET", `/2010-04-01/Accounts/${sid}.json`, {
    headers: { authorization: stack.basic(as.sid, as.token) },
  });

describe("secrets over REST", () => {
  it("returns an account its own auth token, as Twilio does, and never its signing secret", async () => {
    const res = await fetchAccount(signed.sid, signed);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).auth_token).toBe(signed.token);
    expect(res.text).not.toContain(SIGNING_SECRET);
    expect(res.text).not.toMatch(/signing/i);
  });

  it("never returns another account's token", async () => {
    const res = await fetchAccount(signed.sid, stack.account);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(signed.token);
  });

  it("echoes no credentials in a refusal", async () => {
    const res = await stack.send("GET", `/2010-04-01/Accounts/${signed.sid}/Calls.json`, {
      headers: { authorization: stack.basic(signed.sid, "guessed-token-value") },
    });
    expect(res.status).toBe(401);
    expect(res.text).not.toContain("guessed-token-value");
    expect(res.text).not.toContain(signed.token);
  });
});

describe("secrets in inspection events", () => {
  it("cuts URL credentials from every URL an event carries", () => {
    expect(withoutCredentials("https://user:pass@app.example.com/voice?x=1")).toBe(
      "https://app.example.com/voice?x=1",
    );
    expect(withoutCredentials("https://token@app.example.com/")).toBe("https://app.example.com/");
    expect(withoutCredentials("not a url @ all")).toBe("not a url @ all");
  });
});
