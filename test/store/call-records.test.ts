// A call's record is written once (issue #16, item 2): a second write for the same CallSid, whether
// this call's own retry or another call's, never replaces it. Real nats-server.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { storeCallRecord, writeOwnCallRecord } from "../../src/store/call-records.js";
import { openRegionStores, type RegionStores } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

let nats: NatsServer;
let nc: NatsConnection;
let stores: RegionStores;

beforeAll(async () => {
  nats = await startTestNatsServer();
  nc = await connect({ servers: nats.url });
  stores = await openRegionStores(nc, "us1");
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const record = (sid: string, accountSid: string, to: string): CallResource =>
  ({ sid, account_sid: accountSid, to, from: "+15557654321", status: "completed" }) as CallResource;

describe("storeCallRecord", () => {
  it("stores a record once; this call's second write and another call's leave the first", async () => {
    const sid = newSid("CA");
    const a = record(sid, newSid("AC"), "+15551700001");
    expect(await storeCallRecord(stores.calls, a)).toBe("stored");
    expect(await storeCallRecord(stores.calls, { ...a, status: "failed" })).toBe("same");
    expect(await storeCallRecord(stores.calls, record(sid, newSid("AC"), "+15551700002"))).toBe("other");
    expect(await stores.calls.get(sid)).toEqual(a);
  });

  it("lets a leg rewrite its own record, and only its own", async () => {
    const sid = newSid("CA");
    const leg = record(sid, newSid("AC"), "+15551700003");
    const first = await writeOwnCallRecord(stores.calls, { ...leg, status: "ringing" }, 0);
    const second = await writeOwnCallRecord(stores.calls, leg, first);
    expect(second).toBeGreaterThan(first);
    // A record written by anyone else since: the leg's write fails and leaves it.
    const other = record(sid, newSid("AC"), "+15551700004");
    await stores.calls.put(sid, other);
    await expect(writeOwnCallRecord(stores.calls, leg, second)).rejects.toThrow(/wrong last sequence/);
    await expect(writeOwnCallRecord(stores.calls, leg, 0)).rejects.toThrow();
    expect(await stores.calls.get(sid)).toEqual(other);
  });
});
