// The call index's keys: every Calls-list filter is a key token, and key order is newest first.
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { callIndexFilter, callIndexKey, parseCallIndexKey } from "../../src/store/call-index.js";

const account = newSid("AC");

function call(startTime: string, fields: Partial<CallResource> = {}): CallResource {
  return {
    sid: newSid("CA"),
    account_sid: account,
    to: "+15551230001",
    from: "client:alice",
    status: "completed",
    start_time: startTime,
    date_created: startTime,
    parent_call_sid: null,
    ...fields,
  } as CallResource;
}

/** Whether a NATS subject filter (`*` = one token) matches a key. */
function matches(filter: string, key: string): boolean {
  const f = filter.split(".");
  const k = key.split(".");
  return f.length === k.length && f.every((t, i) => t === "*" || t === k[i]);
}

describe("call index keys", () => {
  it("sort newest first and read back their start time to the second", () => {
    const times = [
      "Mon, 01 Jan 2024 10:00:00 +0000",
      "Mon, 01 Jan 2024 10:00:01 +0000",
      "Tue, 02 Jan 2024 00:00:00 +0000",
    ];
    const keys = times.map((t) => callIndexKey(call(t)) ?? "");
    expect([...keys].sort()).toEqual([...keys].reverse());
    expect(keys.map((k) => parseCallIndexKey(k)?.startedAt)).toEqual(times.map((t) => Date.parse(t)));
  });

  it("carry every filter as a token the server can match", () => {
    const parent = newSid("CA");
    const c = call("Mon, 01 Jan 2024 10:00:00 +0000", { status: "no-answer", parent_call_sid: parent });
    const key = callIndexKey(c) ?? "";
    expect(key.split(".")).toHaveLength(8);
    expect(parseCallIndexKey(key)).toMatchObject({
      accountSid: account,
      callSid: c.sid,
      status: "no-answer",
    });
    const hits = [
      { accountSid: account },
      { accountSid: account, day: "20240101", status: "no-answer" },
      { accountSid: account, to: "+15551230001", from: "client:alice", parentCallSid: parent },
    ];
    for (const f of hits) expect(matches(callIndexFilter(f), key), JSON.stringify(f)).toBe(true);
    const misses = [
      { accountSid: newSid("AC") },
      { accountSid: account, day: "20240102" },
      { accountSid: account, status: "completed" },
      { accountSid: account, from: "client:bob" },
      { accountSid: account, to: "+15551230002" },
    ];
    for (const f of misses) expect(matches(callIndexFilter(f), key), JSON.stringify(f)).toBe(false);
  });

  it("use only characters KV keys allow, whatever the caller ID", () => {
    for (const from of ["sip:alice@example.com;transport=tls", "anonymous", "client:a b/c", ""]) {
      expect(callIndexKey(call("Mon, 01 Jan 2024 10:00:00 +0000", { from }))).toMatch(/^[-/_=.A-Za-z0-9]+$/);
    }
  });

  it("skip a call with no account: nobody may list it", () => {
    expect(callIndexKey(call("Mon, 01 Jan 2024 10:00:00 +0000", { account_sid: "" }))).toBeUndefined();
  });
});
