// REST inputs from anyone on the network: random form bodies, query strings and path segments
// never make the api answer 500 or reject unhandled, and every error is Twilio's JSON body.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginLimiter } from "../../src/api/login-limiter.js";
import { newSid } from "../../src/model/sid.js";
import { type ApiStack, isTwilioError, startApiStack } from "../security/api-stack.js";
import { runs } from "./expect-refusal.js";

const RUNS = runs(60);
let stack: ApiStack;
let auth: Record<string, string>;
let base: string;

beforeAll(async () => {
  // Bad credentials are part of the fuzz: a limiter that never blocks keeps 429 out of it.
  stack = await startApiStack({ loginLimiter: new LoginLimiter({ maxFailures: Number.MAX_SAFE_INTEGER }) });
  auth = { authorization: stack.basic(stack.account.sid, stack.account.token) };
  base = `/2010-04-01/Accounts/${stack.account.sid}`;
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** Checks one response: no 5xx but 503 (JetStream not answering), errors in Twilio's shape. */
function checkResponse(
  res: { status: number; headers: Record<string, unknown>; text: string },
  what: string,
) {
  expect(res.status, `${what} -> ${res.status} ${res.text.slice(0, 200)}`).toBeLessThan(500);
  if (res.status >= 400) {
    expect(String(res.headers["content-type"]), what).toMatch(/^application\/json/);
    expect(isTwilioError(JSON.parse(res.text), res.status), `${what} -> ${res.text.slice(0, 200)}`).toBe(
      true,
    );
  }
}

const PATHS = [
  "/Calls.json",
  `/Calls/${newSid("CA")}.json`,
  `/Calls/${newSid("CA")}/Events.json`,
  `/Calls/${newSid("CA")}/Notifications.json`,
  `/Calls/${newSid("CA")}/Recordings.json`,
  "/Recordings.json",
  `/Recordings/${newSid("RE")}.json`,
  "/IncomingPhoneNumbers.json",
  `/IncomingPhoneNumbers/${newSid("PN")}.json`,
  "/Conferences.json",
  "/Queues.json",
  "/Transcriptions.json",
  ".json",
];
const PARAMS = [
  "To",
  "From",
  "Status",
  "ParentCallSid",
  "StartTime",
  "StartTime>",
  "StartTime<",
  "EndTime",
  "PageSize",
  "Page",
  "PageToken",
  "PhoneNumber",
  "FriendlyName",
  "VoiceUrl",
  "VoiceMethod",
  "VoiceFallbackUrl",
  "StatusCallback",
  "Url",
  "Method",
  "Twiml",
  "DateCreated",
  "CallSid",
  "VoiceRegion",
];
const paramValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "",
    "-1",
    "0",
    "1001",
    "1e9",
    "PA",
    "PBCA00",
    "+15551230001",
    "http://x",
    "2024-13-45",
    "<Response/>",
  ),
  fc.integer().map(String),
);
const form = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 10 })), paramValue),
  {
    maxLength: 6,
  },
);
const encodeForm = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();

describe("random REST input", () => {
  it("random query strings on every list and fetch path", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), form, async (path, query) => {
        const url = `${base}${path}?${encodeForm(query)}`;
        checkResponse(await stack.send("GET", url, { headers: auth }), `GET ${url}`);
      }),
      RUNS,
    );
  });

  it("random form bodies to every path that takes a POST, and raw bodies of any content type", async () => {
    const posts = [
      `/Calls/${newSid("CA")}.json`,
      "/IncomingPhoneNumbers.json",
      `/IncomingPhoneNumbers/${newSid("PN")}.json`,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts, "/v2/PhoneNumbers/+15551230001"),
        fc.oneof(
          form.map((f) => ({ type: "application/x-www-form-urlencoded", body: encodeForm(f) })),
          fc.record({
            type: fc.constantFrom(
              "application/x-www-form-urlencoded",
              "application/json",
              "text/plain",
              "",
              "multipart/form-data; boundary=x",
            ),
            body: fc.string({ maxLength: 200 }),
          }),
        ),
        async (path, { type, body }) => {
          const url = path.startsWith("/v2") ? path : `${base}${path}`;
          const headers = { ...auth, ...(type && { "content-type": type }) };
          checkResponse(await stack.send("POST", url, { headers, body }), `POST ${url} ${type} ${body}`);
        },
      ),
      RUNS,
    );
  });

  it("random path segments, methods and credentials", async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom(
        "..",
        "%2e%2e",
        "%00",
        "Calls",
        "CA",
        newSid("CA"),
        "x.json",
        "%ZZ",
        "%",
        "~",
        "Accounts",
      ),
    );
    const creds = fc.oneof(
      fc.constant(auth.authorization ?? ""),
      fc.string({ maxLength: 40 }),
      fc.string({ maxLength: 40 }).map((s) => `Basic ${Buffer.from(s).toString("base64")}`),
      fc.constant(stack?.basic?.(newSid("AC"), "nope") ?? ""),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
        fc.constantFrom("/2010-04-01/Accounts", base, "/v2/PhoneNumbers", "/2010-04-01", "", "/nowhere"),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        creds,
        async (method, prefix, segments, authorization) => {
          const url = `${prefix}/${segments.join("/")}`;
          const res = await stack.send(method, url, { headers: { authorization } });
          if (url.startsWith("/viz")) return; // the visualizer's own pages
          checkResponse(res, `${method} ${url}`);
        },
      ),
      RUNS,
    );
  });
});
