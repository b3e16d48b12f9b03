// The api refuses request bodies over 64 KiB with 413 in Twilio's error shape, before parsing them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_BODY_LIMIT } from "../../src/api/server.js";
import { type ApiStack, isTwilioError, startApiStack } from "./api-stack.js";

let stack: ApiStack;
let auth: Record<string, string>;

beforeAll(async () => {
  stack = await startApiStack();
  auth = { authorization: stack.basic(stack.account.sid, stack.account.token) };
});
afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const form = (bytes: number) => `FriendlyName=${"x".repeat(bytes)}`;

describe("request body limit", () => {
  it("is 64 KiB", () => {
    expect(API_BODY_LIMIT).toBe(64 * 1024);
  });

  it.each([
    ["application/x-www-form-urlencoded", form(API_BODY_LIMIT)],
    ["application/json", JSON.stringify({ FriendlyName: "x".repeat(API_BODY_LIMIT) })],
  ])("refuses an oversize %s body with 413 in Twilio's shape", async (type, body) => {
    const res = await stack.send(
      "POST",
      `/2010-04-01/Accounts/${stack.account.sid}/IncomingPhoneNumbers.json`,
      {
        headers: { ...auth, "content-type": type },
        body,
      },
    );
    expect(res.status).toBe(413);
    expect(isTwilioError(JSON.parse(res.text), 413)).toBe(true);
  });

  it.each([
    ["creating a call", "Calls.json"],
    ["updating one", "Calls/CA00000000000000000000000000000000.json"],
  ])("answers an oversize body %s as a Twiml over 4000 characters: 400, 32018", async (_what, path) => {
    const twiml = `<Response>${"<Pause/>".repeat(API_BODY_LIMIT / 8)}</Response>`;
    const res = await stack.send("POST", `/2010-04-01/Accounts/${stack.account.sid}/${path}`, {
      headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
      body: `To=%2B15551230001&From=%2B15551230002&Twiml=${encodeURIComponent(twiml)}`,
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ code: 32018, status: 400 });
  });

  it("refuses an oversize body to a path outside the Twilio routes in the same shape", async () => {
    const res = await stack.send("POST", "/nowhere", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ x: "y".repeat(API_BODY_LIMIT) }),
    });
    expect([404, 413]).toContain(res.status);
    expect(isTwilioError(JSON.parse(res.text), res.status)).toBe(true);
  });

  it("still reads a body under the limit", async () => {
    const res = await stack.send(
      "POST",
      `/2010-04-01/Accounts/${stack.account.sid}/IncomingPhoneNumbers.json`,
      {
        headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
        body: `PhoneNumber=%2B15551230009&VoiceUrl=https%3A%2F%2Fapp.example.com%2Fv&${form(32 * 1024)}`,
      },
    );
    expect(res.status).not.toBe(413);
    expect(res.status).toBeLessThan(500);
  });
});
