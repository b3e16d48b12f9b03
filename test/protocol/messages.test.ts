// Messages between processes are validated where they are received: what fails its schema is
// refused or left out, never passed on as if it were the message.
import { describe, expect, it } from "vitest";
import { newSid } from "../../src/model/sid.js";
import { parseOutboxCallback } from "../../src/protocol/callbacks.js";
import { readChannelOut } from "../../src/protocol/channel-events.js";
import { encode } from "../../src/protocol/codec.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";
import {
  callOfLeaseKey,
  claimKey,
  leaseJob,
  ownerKey,
  parseClaimKey,
  workerOfLeaseKey,
} from "../../src/protocol/leases.js";
import { readLegEvent } from "../../src/protocol/sip-legs.js";
import { WorkerStatsSchema } from "../../src/protocol/worker-stats.js";
import { fitHeaders } from "../../src/sip/x-headers.js";

const callSid = newSid("CA");
const facts = {
  callSid,
  accountSid: newSid("AC"),
  to: "+15551230001",
  from: "+15557654321",
  region: "us1",
  edge: "ashburn",
  direction: "inbound",
  apiVersion: "2010-04-01",
  phoneNumberSid: null,
};

describe("protocol messages", () => {
  it("keeps an inspection batch's valid events in order and leaves out the rest", () => {
    const envelope = { callSid, at: 1, seq: 1 };
    const batch = [
      { ...envelope, type: "resumed", worker: "w1", from: "w0" },
      { ...envelope, type: "no-such-kind" },
      {
        ...envelope,
        seq: 2,
        type: "channel",
        command: { kind: "ended", status: "completed", region: "us1" },
      },
      { ...envelope, seq: 3, type: "channel", command: { kind: "ended", status: "lost" } },
    ];
    expect(inspectEnvelopes(encode(batch)).map((e) => [e.seq, e.type])).toEqual([
      [1, "resumed"],
      [2, "channel"],
    ]);
    // A stream written before batching holds one event per message.
    expect(inspectEnvelopes(encode(batch[0]))).toHaveLength(1);
  });

  it("reads a channel command only when it is one", () => {
    expect(readChannelOut({ kind: "ended", status: "failed", region: "us1" })).toEqual({
      kind: "ended",
      status: "failed",
      region: "us1",
    });
    expect(readChannelOut({ kind: "ended" })).toBeUndefined();
    expect(readChannelOut("hangup")).toBeUndefined();
  });

  it("builds and reads the lease and claim keys one way", () => {
    expect(workerOfLeaseKey(ownerKey("w-1", callSid), callSid)).toBe("w-1");
    expect(callOfLeaseKey(ownerKey("w-1", callSid), "w-1")).toBe(callSid);
    expect(parseClaimKey(claimKey("w-1", callSid, 42), "w-1")).toEqual({ callSid, revision: 42 });
    expect(leaseJob(new Uint8Array())).toBeUndefined();
    expect(() => leaseJob(encode({ callSid: "CA1" }))).toThrow(/invalid call job/);
  });

  it("refuses worker stats without their histogram", () => {
    const stats = { worker: "w", region: "us1", at: 1, liveCalls: 0, byState: {}, counters: {} };
    expect(WorkerStatsSchema.safeParse(stats).success).toBe(false);
    const webhook = { buckets: [1], sum: 0.1, count: 1 };
    expect(WorkerStatsSchema.safeParse({ ...stats, webhook }).success).toBe(true);
  });

  it("tells a status callback from a verb's callback in the outbox, and refuses anything else", () => {
    const status = parseOutboxCallback({
      facts,
      url: "https://example.com/s",
      method: "POST",
      event: { callStatus: "ringing", sequenceNumber: 0, at: 1 },
    });
    expect("event" in status && status.event.sequenceNumber).toBe(0);
    const verb = parseOutboxCallback({
      facts,
      url: "https://example.com/r",
      method: "GET",
      params: {},
      key: "k",
    });
    expect("key" in verb && verb.key).toBe("k");
    expect(() => parseOutboxCallback({ facts, url: "https://example.com/r", method: "PUT" })).toThrow(
      /invalid callback/,
    );
  });

  it("takes a leg event with or without its final response's Call-ID and X- headers, within bounds", () => {
    // As the first version of the contract sent them (no callId, no headers): still valid.
    expect(readLegEvent({ kind: "answered" })).toEqual({ kind: "answered" });
    expect(readLegEvent({ kind: "failed", sipCode: 486, reason: "Busy Here" })).toMatchObject({
      sipCode: 486,
    });
    const failed = {
      kind: "failed",
      sipCode: 486,
      reason: "Busy",
      callId: "abc",
      headers: { "X-Foo": "bar" },
    };
    expect(readLegEvent(failed)).toEqual(failed);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`X-H${i}`, "v"]));
    expect(readLegEvent({ kind: "answered", headers: many })).toBeUndefined();
    expect(readLegEvent({ kind: "answered", headers: { "X-Big": "v".repeat(1025) } })).toBeUndefined();
    const wide = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`X-H${i}`, "v".repeat(1000)]));
    expect(readLegEvent({ kind: "answered", headers: wide })).toBeUndefined();
    expect(readLegEvent({ kind: "answered", headers: { Contact: "<sip:x@y>" } })).toBeUndefined();
  });

  it("fits a peer's X- headers to a count and a size, skipping any too long", () => {
    const headers = { "X-Huge": "h".repeat(1025), "X-A": "1".repeat(10), "X-B": "2".repeat(10), "X-C": "3" };
    expect(fitHeaders(headers, { maxBytes: 29 })).toEqual({ "X-A": "1".repeat(10), "X-B": "2".repeat(10) });
    expect(fitHeaders(headers, { maxBytes: 1000, maxCount: 1 })).toEqual({ "X-A": "1".repeat(10) });
  });
});
