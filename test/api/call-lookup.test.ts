// Finding a call for the REST api (call-lookup.ts) while it ends: its worker stores the record, then
// deletes its snapshot and lease, so a lookup that reads the record just before and the lease just
// after must still find the call. Real nats-server and buckets; the ending is placed between the reads.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownedCall } from "../../src/api/rest/call-lookup.js";
import { RegionBuckets } from "../../src/api/rest/region-buckets.js";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { ownerKey } from "../../src/protocol/leases.js";
import type { JsonKv } from "../../src/store/json-kv.js";
import { openRegionStores, type RegionStores } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";
import { setUp } from "../helpers/teardown.js";

let parts: { nats: NatsServer; nc: NatsConnection; stores: RegionStores } & AsyncDisposable;

beforeAll(async () => {
  parts = await setUp(async (t) => {
    const nats = t.use(await startTestNatsServer());
    const nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
    const stores = await openRegionStores(nc, "us1");
    return { nats, nc, stores, [Symbol.asyncDispose]: () => t.stop() };
  });
});

afterAll(async () => {
  await parts?.[Symbol.asyncDispose]();
});

/** Buckets whose first read of the call's record is followed, at once, by the call's end on its worker. */
class EndingAfterFirstRead extends RegionBuckets {
  #reads = 0;

  constructor(
    nc: NatsConnection,
    private readonly end: () => Promise<void>,
  ) {
    super(nc);
  }

  override async calls(region: string): Promise<JsonKv<CallResource>> {
    const calls = await super.calls(region);
    const get = async (key: string) => {
      const record = await calls.get(key);
      if (++this.#reads === 1) await this.end();
      return record;
    };
    return Object.assign(Object.create(calls) as JsonKv<CallResource>, { get });
  }
}

describe("ownedCall", () => {
  it("finds a call that ends between its record's read and its lease's", async () => {
    const { nc, stores } = parts;
    const accountSid = newSid("AC");
    const callSid = newSid("CA");
    // Live, in its first second: a lease and no snapshot yet.
    const lease = ownerKey("w1", callSid);
    await stores.actors.kv.put(lease, JSON.stringify({ callSid }));
    const record = { sid: callSid, account_sid: accountSid, status: "completed" } as CallResource;
    const buckets = new EndingAfterFirstRead(nc, async () => {
      await stores.calls.put(callSid, record);
      await stores.actors.kv.purge(lease);
    });
    const found = await ownedCall(buckets, "us1", accountSid, callSid, `/Calls/${callSid}.json`);
    expect(found).toEqual({ call: record, live: false });
  });

  it("does not find a call that is neither stored nor live", async () => {
    const buckets = new RegionBuckets(parts.nc);
    const callSid = newSid("CA");
    await expect(ownedCall(buckets, "us1", newSid("AC"), callSid, "/x")).rejects.toMatchObject({
      code: 20404,
    });
  });
});
