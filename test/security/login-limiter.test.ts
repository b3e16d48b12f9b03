// Failed logins are rate-limited per client IP and per AccountSid: after 10 failures within a minute
// every request from that IP, or for that AccountSid, is 429 (20429) with Retry-After, until the
// minute has passed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginLimiter } from "../../src/api/login-limiter.js";
import { newSid } from "../../src/model/sid.js";
import { type ApiStack, isTwilioError, startApiStack } from "./api-stack.js";

describe("LoginLimiter", () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it("blocks a key after maxFailures within the window and frees it as failures age out", () => {
    const c = clock();
    const limiter = new LoginLimiter({ maxFailures: 3, windowMs: 60_000, now: c.now });
    const keys = LoginLimiter.keys("10.0.0.1", undefined);
    limiter.fail(keys);
    c.advance(10_000);
    limiter.fail(keys);
    expect(limiter.retryAfter(keys)).toBe(0);
    limiter.fail(keys);
    expect(limiter.retryAfter(keys)).toBe(50); // the first failure leaves the window in 50 s
    c.advance(50_000);
    expect(limiter.retryAfter(keys)).toBe(0);
  });

  it("counts per client IP and per AccountSid separately", () => {
    const limiter = new LoginLimiter({ maxFailures: 2 });
    const sid = newSid("AC");
    // The same AccountSid from two IPs: the sid is blocked, neither IP is.
    limiter.fail(LoginLimiter.keys("10.0.0.1", sid));
    limiter.fail(LoginLimiter.keys("10.0.0.2", sid));
    expect(limiter.retryAfter(LoginLimiter.keys("10.0.0.3", sid))).toBeGreaterThan(0);
    expect(limiter.retryAfter(LoginLimiter.keys("10.0.0.1", undefined))).toBe(0);
    expect(limiter.retryAfter(LoginLimiter.keys("10.0.0.1", newSid("AC")))).toBe(0);
    // One IP trying many sids: the IP is blocked.
    limiter.fail(LoginLimiter.keys("10.0.0.9", newSid("AC")));
    limiter.fail(LoginLimiter.keys("10.0.0.9", newSid("AC")));
    expect(limiter.retryAfter(LoginLimiter.keys("10.0.0.9", newSid("AC")))).toBeGreaterThan(0);
  });

  it("keeps its memory bounded", () => {
    const limiter = new LoginLimiter({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limiter.fail([`ip:${i}`]);
    expect(limiter.size).toBe(100);
  });
});

describe("the api's failed-login limit", () => {
  let stack: ApiStack;
  const c = { t: Date.now() };
  const limiter = new LoginLimiter({ now: () => c.t });

  beforeAll(async () => {
    stack = await startApiStack({ loginLimiter: limiter });
  });
  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  const get = (authorization: string) =>
    stack.send("GET", `/2010-04-01/Accounts/${stack.account.sid}/Calls.json`, { headers: { authorization } });

  it("answers 401 ten times, then 429 with code 20429 and Retry-After, even to the right token", async () => {
    const wrong = stack.basic(stack.account.sid, "not-the-token");
    for (let i = 0; i < 10; i++) expect((await get(wrong)).status).toBe(401);
    const blocked = await get(wrong);
    expect(blocked.status).toBe(429);
    const body = JSON.parse(blocked.text);
    expect(isTwilioError(body, 429)).toBe(true);
    expect(body).toMatchObject({ code: 20429, more_info: "https://www.twilio.com/docs/errors/20429" });
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect((await get(stack.basic(stack.account.sid, stack.account.token))).status).toBe(429);
    // Routes v2 shares the limit.
    expect(
      (await stack.send("GET", "/v2/PhoneNumbers/+15551230001", { headers: { authorization: wrong } }))
        .status,
    ).toBe(429);
  });

  it("lets the client in again once the minute has passed", async () => {
    c.t += 61_000;
    expect((await get(stack.basic(stack.account.sid, stack.account.token))).status).toBe(200);
  });

  it("does not count successful logins", async () => {
    for (let i = 0; i < 15; i++)
      expect((await get(stack.basic(stack.account.sid, stack.account.token))).status).toBe(200);
  });
});
