// The rest of the REST surface: the account, a call's notifications and events, resources with no
// producer yet (valid empty pages), regions with no buckets, validation errors with Twilio's codes,
// numbers across accounts, unknown paths, /openapi.json and /metrics.

import { randomBytes } from "node:crypto";
import { Objm } from "@nats-io/obj";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSid } from "../../src/model/sid.js";
import { buckets } from "../../src/protocol/subjects.js";
import { putRecording } from "../../src/store/recording-objects.js";
import { CRASH_BODY, type Stack, startStack } from "./helpers/stack.js";

let stack: Stack;
let ok: string;
let failing: string;
let crashing: string;
const acct = () => `/2010-04-01/Accounts/${stack.account.sid}`;
type Body = Record<string, unknown>;

beforeAll(async () => {
  stack = await startStack();
  await stack.number("+15551232001");
  await stack.number("+15551232002", { path: "/missing" });
  ok = (await stack.call("+15551232001")).callSid;
  failing = (await stack.call("+15551232002")).callSid;
  await stack.number("+15551232009", { path: "/crash" });
  crashing = (await stack.call("+15551232009")).callSid;
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe("Accounts/{Sid}.json", () => {
  it("returns the authenticated account and hides others", async () => {
    const own = await stack.rest("GET", `${acct()}.json`);
    expect(own.body).toMatchObject({
      sid: stack.account.sid,
      status: "active",
      auth_token: stack.account.token,
    });
    expect((await stack.rest("GET", `/2010-04-01/Accounts/${stack.other.sid}.json`)).status).toBe(404);
  });
});

describe("a call's notifications and events", () => {
  it("lists the error of a call whose webhook failed, and fetches it", async () => {
    const list = await stack.rest<{ notifications: Body[] }>(
      "GET",
      `${acct()}/Calls/${failing}/Notifications.json`,
    );
    expect(list.body.notifications.length).toBeGreaterThan(0);
    const first = list.body.notifications[0] ?? {};
    expect(first).toMatchObject({ call_sid: failing, log: "0", error_code: "11200" });
    const one = await stack.rest("GET", `${acct()}/Calls/${failing}/Notifications/${first.sid}.json`);
    expect(one.body).toMatchObject({ sid: first.sid });
    expect(
      (await stack.rest("GET", `${acct()}/Calls/${failing}/Notifications.json?Log=1`)).body,
    ).toMatchObject({
      notifications: [],
    });
    expect((await stack.rest("GET", `${acct()}/Calls/${ok}/Notifications/${newSid("NO")}.json`)).status).toBe(
      404,
    );
  });

  it("lists each webhook request with its response, an error status included", async () => {
    const events = async (sid: string) =>
      (
        await stack.rest<{ events: Array<{ request: Body; response: Body | null }> }>(
          "GET",
          `${acct()}/Calls/${sid}/Events.json`,
        )
      ).body.events;
    const good = await events(ok);
    expect(good).toHaveLength(1);
    expect(good[0]?.request).toMatchObject({ method: "POST", url: `${stack.app.url}/voice` });
    expect(good[0]?.response).toMatchObject({ response_code: 200, content_type: "text/xml" });
    // A 404 is still a response (the 11200 it causes is a notification); a timeout would be null.
    const bad = await events(failing);
    expect(bad[0]?.request).toMatchObject({ method: "POST", url: `${stack.app.url}/missing` });
    expect(bad[0]?.response).toMatchObject({ response_code: 404, response_body: "" });
  });

  it("keeps what a failing webhook answered: status, headers and body, in Events and Notifications", async () => {
    const events = (
      await stack.rest<{ events: Array<{ response: Body | null }> }>(
        "GET",
        `${acct()}/Calls/${crashing}/Events.json`,
      )
    ).body.events;
    expect(events[0]?.response).toMatchObject({
      response_code: 500,
      content_type: "text/plain",
      response_body: CRASH_BODY,
    });
    const list = await stack.rest<{ notifications: Body[] }>(
      "GET",
      `${acct()}/Calls/${crashing}/Notifications.json`,
    );
    const error = list.body.notifications.find((n) => n.error_code === "11200") ?? {};
    expect(error).toMatchObject({ response_body: CRASH_BODY, request_url: `${stack.app.url}/crash` });
    // Twilio's form: `Name=value&…`.
    const headers = new URLSearchParams(String(error.response_headers));
    expect(headers.get("x-app")).toBe("survey");
    expect(headers.get("content-type")).toBe("text/plain");
  });

  it("is 404 for a call of another account", async () => {
    const res = await stack.rest("GET", `/2010-04-01/Accounts/${stack.other.sid}/Calls/${ok}/Events.json`, {
      auth: stack.other,
    });
    expect(res.status).toBe(404);
  });
});

describe("resources with nothing in them yet", () => {
  it("list as valid empty pages and fetch as 404 (a missing conference or queue has no members)", async () => {
    const lists = [
      ["/Conferences.json", "conferences"],
      ["/Queues.json", "queues"],
      ["/Transcriptions.json", "transcriptions"],
    ] as const;
    for (const [path, key] of lists) {
      const res = await stack.rest("GET", `${acct()}${path}?PageSize=10`);
      expect(res.body, path).toMatchObject({ [key]: [], page: 0, page_size: 10, next_page_uri: null });
      expect(res.body.first_page_uri).toBe(`${acct()}${path}?PageSize=10&Page=0`);
    }
    const cf = sidOf("CF");
    const qu = sidOf("QU");
    const instances = [
      `/Conferences/${cf}.json`,
      `/Conferences/${cf}/Participants.json`,
      `/Conferences/${cf}/Participants/${ok}.json`,
      `/Queues/${qu}.json`,
      `/Queues/${qu}/Members.json`,
      `/Queues/${qu}/Members/${ok}.json`,
      `/Transcriptions/${sidOf("TR")}.json`,
    ];
    for (const path of instances) {
      expect((await stack.rest("GET", `${acct()}${path}`)).body, path).toMatchObject({ code: 20404 });
    }
  });

  it("lists a recording's transcriptions as empty, and 404 for another's recording", async () => {
    const os = await new Objm(stack.nc).create(buckets.recordings("us1"));
    const sid = newSid("RE");
    await putRecording(
      os,
      { sid, accountSid: stack.other.sid, callSid: ok, duration: 1, startTime: 0 },
      new Uint8Array(8),
    );
    const theirs = `/2010-04-01/Accounts/${stack.other.sid}/Recordings/${sid}/Transcriptions.json`;
    expect((await stack.rest("GET", theirs, { auth: stack.other })).body).toMatchObject({
      transcriptions: [],
    });
    const one = theirs.replace(".json", `/${sidOf("TR")}.json`);
    expect((await stack.rest("GET", one, { auth: stack.other })).status).toBe(404);
    expect((await stack.rest("GET", `${acct()}/Recordings/${sid}/Transcriptions.json`)).status).toBe(404);
    expect((await stack.rest("GET", `${acct()}/Recordings/${sid}.json`)).status).toBe(404);
    expect((await stack.rest("GET", `${acct()}/Recordings.json`)).body).toMatchObject({ recordings: [] });
  });

  it("filters recordings by ConferenceSid, and by DateCreated", async () => {
    const os = await new Objm(stack.nc).create(buckets.recordings("us1"));
    const [ofCall, ofRoom] = [newSid("RE"), newSid("RE")];
    const room = sidOf("CF");
    const facts = { accountSid: stack.account.sid, callSid: ok, duration: 1, startTime: 0 };
    await putRecording(os, { ...facts, sid: ofCall }, new Uint8Array(8));
    await putRecording(
      os,
      { ...facts, sid: ofRoom, conferenceSid: room, source: "Conference" },
      new Uint8Array(8),
    );
    const sids = async (query: string) =>
      ((await stack.rest("GET", `${acct()}/Recordings.json?${query}`)).body.recordings as { sid: string }[])
        .map((r) => r.sid)
        .filter((sid) => sid === ofCall || sid === ofRoom)
        .sort();
    expect(await sids(`ConferenceSid=${room}`)).toEqual([ofRoom]);
    expect(await sids("")).toEqual([ofCall, ofRoom].sort());
    const today = new Date().toISOString().slice(0, 10);
    expect(await sids(`DateCreated=${today}`)).toEqual([ofCall, ofRoom].sort());
    expect(await sids("DateCreated=2020-01-01")).toEqual([]);
  });

  it("lists empty pages for a region that has no buckets at all", async () => {
    const host = "api.nowhere.zz9.twilio.com";
    // The deployment has no zz9: the api's user may not touch it, which reads as nothing there.
    stack.allowRefusals(/zz9/i);
    for (const [path, key] of [
      ["/Calls.json", "calls"],
      ["/Recordings.json", "recordings"],
      ["/IncomingPhoneNumbers.json", "incoming_phone_numbers"],
    ] as const) {
      expect((await stack.rest("GET", `${acct()}${path}`, { host })).body).toMatchObject({ [key]: [] });
    }
    expect((await stack.rest("GET", `${acct()}/Calls/${ok}.json`, { host })).status).toBe(404);
  });
});

describe("validation", () => {
  const post = (path: string, form: Record<string, string>) =>
    stack.rest("POST", `${acct()}${path}`, { form });

  it("answers call updates with Twilio's codes", async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 21205],
      [{ Status: "paused" }, 20422],
      [{ Url: "ftp://example.com/x" }, 11100],
      [{ Method: "PUT", Url: "https://example.com" }, 21209],
      [{ Twiml: `<Response>${"<Pause/>".repeat(600)}</Response>` }, 32018],
      [{ Url: "https://example.com", FallbackUrl: "https://example.com/f" }, 20422],
    ];
    for (const [form, code] of cases) {
      const res = await post(`/Calls/${ok}.json`, form);
      expect(res.body, JSON.stringify(form)).toMatchObject({ code, status: 400 });
    }
  });

  it("answers incoming-number changes with Twilio's codes", async () => {
    const voiceUrl = `${stack.app.url}/voice`;
    const cases: Array<[Record<string, string>, number]> = [
      [{ PhoneNumber: "5551234", VoiceUrl: voiceUrl }, 21421],
      [{ VoiceUrl: voiceUrl }, 21421],
      [{ PhoneNumber: "+15551232003" }, 21205],
      [{ PhoneNumber: "+15551232003", VoiceUrl: "not a url" }, 11100],
      [{ PhoneNumber: "+15551232003", VoiceUrl: voiceUrl, VoiceMethod: "PUT" }, 21403],
      // They override the voice URLs on Twilio: refused, not dropped (the calls would go elsewhere).
      [
        { PhoneNumber: "+15551232003", VoiceUrl: voiceUrl, VoiceApplicationSid: `AP${"0".repeat(32)}` },
        20422,
      ],
      [{ PhoneNumber: "+15551232003", VoiceUrl: voiceUrl, TrunkSid: `TK${"0".repeat(32)}` }, 20422],
      // No caller-name lookups here: a webhook would never carry the CallerName the app asked for.
      [{ PhoneNumber: "+15551232003", VoiceUrl: voiceUrl, VoiceCallerIdLookup: "true" }, 20422],
    ];
    for (const [form, code] of cases) {
      expect((await post("/IncomingPhoneNumbers.json", form)).body, JSON.stringify(form)).toMatchObject({
        code,
      });
    }
    await stack.number("+15551232004", { account: stack.other });
    const taken = await post("/IncomingPhoneNumbers.json", {
      PhoneNumber: "+15551232004",
      VoiceUrl: voiceUrl,
    });
    expect(taken.body).toMatchObject({ code: 21422, status: 400 });
    const theirs = await stack.rest<{ incoming_phone_numbers: Body[] }>(
      "GET",
      `/2010-04-01/Accounts/${stack.other.sid}/IncomingPhoneNumbers.json`,
      { auth: stack.other },
    );
    const pn = theirs.body.incoming_phone_numbers[0]?.sid;
    expect((await stack.rest("GET", `${acct()}/IncomingPhoneNumbers/${pn}.json`)).status).toBe(404);
    expect((await stack.rest("DELETE", `${acct()}/IncomingPhoneNumbers/${pn}.json`)).status).toBe(404);
    const other = await stack.rest("POST", "/v2/PhoneNumbers/+15551232004", { form: { VoiceRegion: "ie1" } });
    expect(other.status).toBe(404);
  });

  it("releases a number and its route", async () => {
    const created = await post("/IncomingPhoneNumbers.json", {
      PhoneNumber: "+15551232005",
      VoiceUrl: `${stack.app.url}/voice`,
    });
    expect(created.status).toBe(201);
    expect((await stack.rest("GET", "/v2/PhoneNumbers/+15551232005")).status).toBe(200);
    const gone = await stack.rest("DELETE", `${acct()}/IncomingPhoneNumbers/${created.body.sid}.json`);
    expect(gone.status).toBe(204);
    expect((await stack.rest("GET", "/v2/PhoneNumbers/+15551232005")).status).toBe(404);
    expect((await stack.rest("GET", "/v2/PhoneNumbers/not-a-number")).body).toMatchObject({ code: 21421 });
  });

  it("answers unknown paths with Twilio's 404", async () => {
    const res = await stack.rest("GET", `${acct()}/Nothing.json`);
    expect(res.body).toMatchObject({ code: 20404, status: 404 });
  });
});

describe("/openapi.json", () => {
  it("describes every REST route, generated from the route schemas", async () => {
    const res = await stack.rest<{ paths: Record<string, Record<string, Body>> }>("GET", "/openapi.json");
    const { paths } = res.body;
    const has = (path: string, method: string) =>
      expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
    has("/2010-04-01/Accounts/{AccountSid}/Calls.json", "get");
    has("/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json", "get");
    has("/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json", "post");
    has("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", "post");
    has("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json", "delete");
    has("/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.wav", "get");
    has("/v2/PhoneNumbers/{PhoneNumber}", "post");
    const list = paths["/2010-04-01/Accounts/{AccountSid}/Calls.json"]?.get as Body;
    const names = (list.parameters as Array<{ name: string }>).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(["AccountSid", "To", "StartTime>", "PageSize", "PageToken"]),
    );
    const update = paths["/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json"]?.post as Body;
    expect(Object.keys((update.requestBody as { content: Body }).content)).toEqual([
      "application/x-www-form-urlencoded",
    ]);
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[A-Z]\w+$/);
        expect(Object.keys(op.responses as Body).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
  });
});

describe("/metrics", () => {
  it("counts stored calls by region and status, and the api's requests", async () => {
    const res = await stack.rest("GET", "/metrics", { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const text = String(res.body);
    expect(text).toMatch(/^switchboard_calls_stored\{region="us1",status="completed"\} 3$/m);
    expect(text).toMatch(/^switchboard_calls_stored\{region="us1",status="busy"\} 0$/m);
    expect(text).toMatch(
      /^switchboard_api_requests_total\{method="GET",route="[^"]+Calls\/:CallSid\/Events\.json",code="200"\} \d+$/m,
    );
    expect(text).toMatch(/^switchboard_api_request_duration_seconds_count\{/m);
  });

  it("adds the process and Node.js metrics, each named once", async () => {
    const res = await stack.rest("GET", "/metrics", { auth: null });
    const text = String(res.body);
    if (process.env.SHOW_METRICS) console.log(text);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    const types = text.match(/^# TYPE \S+/gm) ?? [];
    expect(new Set(types).size).toBe(types.length);
  });
});

/** A sid with a prefix switchboard never issues (CF, QU, TR). */
function sidOf(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}
