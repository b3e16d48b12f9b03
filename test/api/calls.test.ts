// Calls over REST: real calls through an edge and region workers, listed from the call index with
// Twilio's filters and paging, fetched one by one, and kept apart per account and per region.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callResource } from "../../src/model/call-resource.js";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { callIndexKey, indexCall, openCallIndex } from "../../src/store/call-index.js";
import { openRegionStores } from "../../src/store/region.js";
import { type Stack, startStack } from "./helpers/stack.js";

type CallList = {
  calls: CallResource[];
  next_page_uri: string | null;
  previous_page_uri: string | null;
} & Record<string, unknown>;

let stack: Stack;
const A = "+15551230001";
const A2 = "+15551230002";
const B = "+15551230003";
const placed: Record<string, string[]> = { a: [], a2: [], b: [] };

beforeAll(async () => {
  stack = await startStack();
  await stack.number(A);
  await stack.number(A2);
  await stack.number(B, { account: stack.other });
  for (let i = 0; i < 3; i++) placed.a?.push((await stack.call(A, `+1555000000${i}`)).callSid);
  placed.a2?.push((await stack.call(A2)).callSid);
  placed.b?.push((await stack.call(B)).callSid);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const calls = (query = "", opts = {}) =>
  stack.rest<CallList>("GET", `/2010-04-01/Accounts/${stack.account.sid}/Calls.json${query}`, opts);

describe("GET Calls.json", () => {
  it("lists the account's stored calls and no other account's", async () => {
    const res = await calls();
    expect(res.status).toBe(200);
    const sids = res.body.calls.map((c) => c.sid).sort();
    expect(sids).toEqual([...(placed.a ?? []), ...(placed.a2 ?? [])].sort());
    expect(res.body.calls.every((c) => c.account_sid === stack.account.sid && c.status === "completed")).toBe(
      true,
    );
    expect(res.body).toMatchObject({ page: 0, page_size: 50, start: 0, end: 3, next_page_uri: null });
  });

  it("filters by To, From and Status on the server", async () => {
    expect((await calls(`?To=${encodeURIComponent(A)}`)).body.calls.map((c) => c.to)).toEqual([A, A, A]);
    const from = await calls(`?From=${encodeURIComponent("+15550000001")}`);
    expect(from.body.calls.map((c) => c.sid)).toEqual([placed.a?.[1]]);
    expect(from.body.uri).toBe(
      `/2010-04-01/Accounts/${stack.account.sid}/Calls.json?From=%2B15550000001&PageSize=50&Page=0`,
    );
    expect((await calls("?Status=completed")).body.calls).toHaveLength(4);
    expect((await calls("?Status=busy")).body.calls).toHaveLength(0);
    expect((await calls(`?ParentCallSid=${newSid("CA")}`)).body.calls).toHaveLength(0);
  });

  it("pages with PageSize and follows next_page_uri and previous_page_uri", async () => {
    const first = await calls("?PageSize=3");
    expect(first.body.calls).toHaveLength(3);
    expect(first.body.next_page_uri).toMatch(/PageSize=3&Page=1&PageToken=PA\d{8}\.\d{6}\.CA[0-9a-f]{32}$/);
    expect(first.body.previous_page_uri).toBeNull();
    const second = await stack.rest<CallList>("GET", first.body.next_page_uri ?? "");
    expect(second.body).toMatchObject({ page: 1, start: 3, end: 3, next_page_uri: null });
    const seen = [...first.body.calls, ...second.body.calls].map((c) => c.sid);
    expect(new Set(seen).size).toBe(4);
    const back = await stack.rest<CallList>("GET", second.body.previous_page_uri ?? "");
    expect(back.body.calls.map((c) => c.sid)).toEqual(first.body.calls.map((c) => c.sid));
  });

  it("refuses bad paging and filters with Twilio's 20422", async () => {
    for (const query of [
      "?PageSize=0",
      "?PageSize=1001",
      "?Page=-1",
      "?Status=done",
      "?StartTime=soon",
      "?EndTime=later",
    ]) {
      const res = await calls(query);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ code: 20422, status: 400 });
    }
    expect((await calls("?PageToken=PAnothing")).body).toMatchObject({ code: 20422 });
  });

  it("orders by start time, newest first, and filters StartTime, StartTime> and StartTime<", async () => {
    // Calls from other days, stored the way the region stores them: record, then index entry.
    const stores = await openRegionStores(stack.nc, "us1");
    const days = ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T10:00:00Z"];
    const sids: string[] = [];
    for (const day of days) {
      const record = synthetic(stack.account.sid, "+15559990000", Date.parse(day));
      await stores.calls.put(record.sid, record);
      await indexCall(stack.nc, "us1", record);
      sids.push(record.sid);
    }
    const to = `?To=${encodeURIComponent("+15559990000")}`;
    expect((await calls(to)).body.calls.map((c) => c.sid)).toEqual([...sids].reverse());
    expect((await calls(`${to}&StartTime=2024-01-02`)).body.calls.map((c) => c.sid)).toEqual([sids[1]]);
    expect((await calls(`${to}&StartTime%3E=2024-01-02`)).body.calls.map((c) => c.sid)).toEqual([
      sids[2],
      sids[1],
    ]);
    expect((await calls(`${to}&StartTime%3C=2024-01-02`)).body.calls.map((c) => c.sid)).toEqual([sids[0]]);
    // The real calls started today, after all of these.
    expect((await calls()).body.calls.slice(0, 4).every((c) => !sids.includes(c.sid))).toBe(true);
  });

  it("keeps a page token good when its call has left the list since (a live call that ended)", async () => {
    const stores = await openRegionStores(stack.nc, "us1");
    const records = ["2024-03-01T10:00:00Z", "2024-03-01T09:00:00Z", "2024-03-01T08:00:00Z"].map((at) =>
      synthetic(stack.account.sid, "+15559990003", Date.parse(at)),
    );
    for (const record of records) {
      await stores.calls.put(record.sid, record);
      await indexCall(stack.nc, "us1", record);
    }
    const first = await calls(`?To=${encodeURIComponent("+15559990003")}&PageSize=1`);
    expect(first.body.calls.map((c) => c.sid)).toEqual([records[0]?.sid]);
    // The first page's call leaves the list before the next page is asked for.
    await (await openCallIndex(stack.nc, "us1")).purge(callIndexKey(records[0] as CallResource) ?? "");
    const next = await stack.rest<CallList>("GET", first.body.next_page_uri ?? "");
    expect(next.status).toBe(200);
    expect(next.body.calls.map((c) => c.sid)).toEqual([records[1]?.sid]);
  });

  it("filters EndTime, EndTime> and EndTime< by when each call ended", async () => {
    const stores = await openRegionStores(stack.nc, "us1");
    // Started a second before midnight, ended five seconds later: the next day.
    const late = synthetic(stack.account.sid, "+15559990002", Date.parse("2024-02-04T23:59:59Z"));
    const early = synthetic(stack.account.sid, "+15559990002", Date.parse("2024-02-05T10:00:00Z"));
    for (const record of [late, early]) {
      await stores.calls.put(record.sid, record);
      await indexCall(stack.nc, "us1", record);
    }
    const to = `?To=${encodeURIComponent("+15559990002")}`;
    const sids = async (query: string) => (await calls(`${to}&${query}`)).body.calls.map((c) => c.sid);
    expect(await sids("EndTime=2024-02-05")).toEqual([early.sid, late.sid]);
    expect(await sids("StartTime=2024-02-05")).toEqual([early.sid]);
    expect(await sids("EndTime=2024-02-04")).toEqual([]);
    expect(await sids("EndTime%3E=2024-02-05T05:00:00Z")).toEqual([early.sid]);
    expect(await sids("EndTime%3C=2024-02-05T05:00:00Z")).toEqual([late.sid]);
  });

  it("answers lists from the index, not by reading every stored call", async () => {
    const stores = await openRegionStores(stack.nc, "us1");
    const unindexed = synthetic(stack.account.sid, "+15559990001", Date.now());
    await stores.calls.put(unindexed.sid, unindexed);
    expect((await calls(`?To=${encodeURIComponent("+15559990001")}`)).body.calls).toEqual([]);
    const fetched = await stack.rest<CallResource>(
      "GET",
      `/2010-04-01/Accounts/${stack.account.sid}/Calls/${unindexed.sid}.json`,
    );
    expect(fetched.body.sid).toBe(unindexed.sid);
    // The index key the region wrote for a real call has the documented shape.
    const keys: string[] = [];
    for await (const k of await (await openCallIndex(stack.nc, "us1")).keys(`${stack.account.sid}.>`))
      keys.push(k);
    const real = keys.find((k) => k.includes(placed.a?.[0] ?? "none"));
    expect(real).toMatch(
      new RegExp(
        `^${stack.account.sid}\\.\\d{8}\\.\\d{6}\\.${placed.a?.[0]}\\.completed\\.p15551230001\\.p15550000000\\.-$`,
      ),
    );
  });
});

describe("GET Calls/{Sid}.json", () => {
  it("returns the stored Call resource", async () => {
    const sid = placed.a?.[0] ?? "";
    const res = await stack.rest<CallResource>(
      "GET",
      `/2010-04-01/Accounts/${stack.account.sid}/Calls/${sid}.json`,
    );
    expect(res.body).toMatchObject({
      sid,
      to: A,
      from: "+15550000000",
      status: "completed",
      direction: "inbound",
    });
  });

  it("does not show another account's call, nor an unknown or malformed sid", async () => {
    const base = `/2010-04-01/Accounts/${stack.account.sid}/Calls`;
    for (const sid of [placed.b?.[0], newSid("CA"), "CA123"]) {
      const res = await stack.rest("GET", `${base}/${sid}.json`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        code: 20404,
        status: 404,
        more_info: "https://www.twilio.com/docs/errors/20404",
      });
    }
    const theirs = await stack.rest(
      "GET",
      `/2010-04-01/Accounts/${stack.other.sid}/Calls/${placed.b?.[0]}.json`,
    );
    expect(theirs.status).toBe(404);
    const own = await stack.rest(
      "GET",
      `/2010-04-01/Accounts/${stack.other.sid}/Calls/${placed.b?.[0]}.json`,
      {
        auth: stack.other,
      },
    );
    expect(own.status).toBe(200);
  });
});

describe("authentication", () => {
  const path = () => `/2010-04-01/Accounts/${stack.account.sid}/Calls.json`;

  it("answers 401 with 20003 without credentials or with wrong ones", async () => {
    const wrong = [null, { sid: stack.account.sid, token: "not-the-token" }, { sid: "_default", token: "" }];
    for (const auth of wrong) {
      const res = await stack.rest("GET", path(), { auth });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 20003, status: 401 });
      expect(res.headers["www-authenticate"]).toMatch(/^Basic/);
    }
  });

  it("hides another account's resources behind 404", async () => {
    const res = await stack.rest("GET", path(), { auth: stack.other });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 20404 });
  });
});

describe("the region of a request", () => {
  it("comes from the Host, and each region's calls are read from that region", async () => {
    await stack.number("+353155500001", { region: "ie1" });
    const routed = await stack.rest("POST", "/v2/PhoneNumbers/+353155500001", {
      form: { VoiceRegion: "ie1" },
    });
    expect(routed.status).toBe(200);
    const placedIe = await stack.call("+353155500001");
    expect(placedIe.region).toBe("ie1");
    const ie = await calls("", { host: "api.dublin.ie1.twilio.com" });
    expect(ie.body.calls.map((c) => c.sid)).toEqual([placedIe.callSid]);
    expect((await calls()).body.calls.map((c) => c.sid)).not.toContain(placedIe.callSid);
    const one = `/2010-04-01/Accounts/${stack.account.sid}/Calls/${placedIe.callSid}.json`;
    expect((await stack.rest("GET", one, { host: "api.ie1.twilio.com" })).status).toBe(200);
    // Host names are case-insensitive.
    expect((await stack.rest("GET", one, { host: "API.Dublin.IE1.twilio.com:443" })).status).toBe(200);
    expect((await stack.rest("GET", one)).status).toBe(404);
    // One host for every region: a first path segment names it (the URLs a region hands out do).
    expect((await stack.rest("GET", `/ie1${one}`)).status).toBe(200);
    // A header of the name the path sets internally does not choose the region.
    expect((await stack.rest("GET", one, { headers: { "x-switchboard-region": "ie1" } })).status).toBe(404);
    expect((await stack.rest("GET", `/zz/${one.slice(1)}`)).status).toBe(404);
  });
});

function synthetic(accountSid: string, to: string, startedAt: number): CallResource {
  const record = callResource(
    {
      facts: {
        callSid: newSid("CA"),
        accountSid,
        to,
        from: "+15557654321",
        region: "us1",
        edge: "ashburn",
        direction: "inbound",
        apiVersion: "2010-04-01",
        phoneNumberSid: null,
      },
      status: "completed",
      arrivedAt: startedAt,
      answeredAt: startedAt,
      endedBy: "app",
      rejectReason: null,
      error: null,
      statusCallback: null,
    } as Parameters<typeof callResource>[0],
    startedAt + 5_000,
    startedAt,
  );
  expect(callIndexKey(record)).toBeDefined();
  return record;
}
