// Issue #5 on a real supercluster (global + us1 + ie1, one nats-server each, joined by gateways):
// an edge in the global cluster routes each call by the routing table, the handling region runs it
// with its own config of the number, a routing change takes effect at once, and every region's data
// is stored only on that region's servers. Each test uses its own numbers; they share the topology.
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber, routeNumber } from "../../src/admin/numbers.js";
import { placeCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import { numberKey } from "../../src/model/phone.js";
import { newSid } from "../../src/model/sid.js";
import { offerCall } from "../../src/protocol/offer.js";
import { buckets } from "../../src/protocol/subjects.js";
import { RegionWorker } from "../../src/region/worker.js";
import { type GlobalStores, openGlobalStores } from "../../src/store/global.js";
import { type Supercluster, startSupercluster } from "../helpers/supercluster.js";
import { startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";

const REGIONS = ["us1", "ie1"] as const;
const log = pino({ level: "silent" });
const token = randomBytes(16).toString("hex");
const accountSid = newSid("AC");
const FROM = "+15557654321";

let sc: Supercluster;
const nc: Record<string, NatsConnection> = {};
const apps: Record<string, TwilioApp> = {};
const workers: RegionWorker[] = [];
let global: GlobalStores;
let dublin: Edge;
let ashburn: Edge;

/** TwiML that says which region's config answered; `<Say loop="x">` also leaves a warning (13510). */
const answer = (region: string) => () => ({
  body: `<Response><Say loop="x">This is ${region}</Say></Response>`,
});

beforeAll(async () => {
  sc = await startSupercluster({ regions: [...REGIONS] });
  for (const cluster of sc.clusters) nc[cluster] = await connect({ servers: sc.url(cluster) });
  for (const region of REGIONS) apps[region] = await startTwilioApp(token, { "/voice": answer(region) });
  // Workers first: the first process to open a region's buckets creates them, placed in the region.
  for (const region of REGIONS) {
    workers.push(await RegionWorker.start({ nc: nc[region] as NatsConnection, region, log }));
  }
  global = await openGlobalStores(nc.global as NatsConnection);
  await addAccount(global, { sid: accountSid, token });
  // `dublin` sits in the global cluster and reads sb_routing itself; `ashburn` is connected to us1
  // and reads us1's mirror of it.
  dublin = await Edge.start({ nc: nc.global as NatsConnection, edge: "dublin", log });
  ashburn = await Edge.start({ nc: nc.us1 as NatsConnection, edge: "ashburn", log });
}, 60_000);

afterAll(async () => {
  await Promise.all([dublin?.stop(), ashburn?.stop()]);
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(Object.values(nc).map((c) => c.close()));
  await Promise.all(Object.values(apps).map((a) => a.close()));
  await sc?.stop();
}, 30_000);

/** Configures `number` in each of `regions` with that region's app; routes it to the first. */
async function configure(number: string, regions: readonly string[]): Promise<void> {
  for (const region of regions) {
    await addNumber(nc.global as NatsConnection, global, {
      number,
      region,
      voiceUrl: `${apps[region]?.url}/voice`,
      accountSid,
    });
  }
}

/** Resolves once every edge's routing cache sends `number` to `region` (waits on their watches). */
function routedEverywhere(number: string, region: string, timeoutMs = 5_000): Promise<void> {
  const key = numberKey(number);
  const edges = [dublin, ashburn];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      for (const e of edges) e.routing.onChange = undefined;
      reject(new Error(`edges did not see ${number} -> ${region} within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      if (!edges.every((e) => e.regionFor(number) === region)) return;
      clearTimeout(timer);
      for (const e of edges) e.routing.onChange = undefined;
      resolve();
    };
    for (const e of edges) e.routing.onChange = (k) => k === key && check();
    check();
  });
}

/** Resolves once the call has a stored notification in `region` (they are written off the call's path). */
async function notified(region: string, callSid: string, timeoutMs = 5_000): Promise<void> {
  const kv = await new Kvm(nc[region] as NatsConnection).open(buckets.notifications(region));
  const watch = await kv.watch({ key: `${callSid}.*` });
  const timer = setTimeout(() => watch.stop(), timeoutMs);
  try {
    for await (const e of watch) if (e.operation === "PUT") return;
    throw new Error(`no notification for ${callSid} in ${region} within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

const call = (to: string, edge = "dublin") =>
  placeCall(nc.global as NatsConnection, {
    to,
    from: FROM,
    edge,
    caller: { timeScale: 0 },
    timeoutMs: 15_000,
  });

describe("regions on a supercluster", () => {
  it("runs a call in the number's region with that region's config, and follows a route change", async () => {
    const number = "+15551230001";
    await configure(number, REGIONS);
    await routedEverywhere(number, "us1");
    expect(dublin.routingStream).toBe("KV_sb_routing");
    expect(ashburn.routingStream).toBe("KV_sb_routing_us1");

    const first = await call(number);
    expect(first.region).toBe("us1");
    expect(first.call).toMatchObject({ status: "completed", to: number, account_sid: accountSid });
    const [usRequest] = (await apps.us1?.waitForRequests(1)) ?? [];
    expect(usRequest).toMatchObject({
      path: "/voice",
      signatureValid: true,
      params: { CallSid: first.callSid },
    });
    expect(usRequest?.headers["x-home-region"]).toBe("us1");
    expect(apps.ie1?.requests).toHaveLength(0);

    await routeNumber(global, number, "ie1");
    await routedEverywhere(number, "ie1");
    const second = await call(number);
    expect(second.region).toBe("ie1");
    expect(second.call).toMatchObject({ status: "completed", to: number });
    const [ieRequest] = (await apps.ie1?.waitForRequests(1)) ?? [];
    expect(ieRequest).toMatchObject({ params: { CallSid: second.callSid } });
    expect(ieRequest?.headers["x-home-region"]).toBe("ie1");
    // ashburn reads the us1 mirror, and it follows the change too.
    const third = await call(number, "ashburn");
    expect(third.region).toBe("ie1");
    expect(apps.us1?.requests).toHaveLength(1);

    // Each call's record is in its own region only.
    const kv = (region: string) => new Kvm(nc[region] as NatsConnection).open(buckets.calls(region));
    expect((await (await kv("us1")).get(first.callSid))?.operation).toBe("PUT");
    expect(await (await kv("ie1")).get(first.callSid)).toBeNull();
    expect((await (await kv("ie1")).get(second.callSid))?.operation).toBe("PUT");
    expect(await (await kv("us1")).get(second.callSid)).toBeNull();
  });

  it("ends a call routed to a region without the number's config as failed with 90004", async () => {
    const number = "+15551230002";
    await configure(number, ["us1"]);
    await routeNumber(global, number, "ie1");
    await routedEverywhere(number, "ie1");
    const placed = await call(number);
    expect(placed.region).toBe("ie1");
    expect(placed.call).toMatchObject({ status: "failed", error_code: 90004 });
  });

  it("keeps each region's streams and buckets, and the calls' data in them, on that region's servers", async () => {
    const byRegion = { us1: "+15551230003", ie1: "+353155500003" } as const;
    for (const [region, number] of Object.entries(byRegion)) {
      await configure(number, [region]);
      await routedEverywhere(number, region);
      const placed = await call(number);
      expect(placed.region).toBe(region);
      await notified(region, placed.callSid);
    }
    // Streams named for a region (`…_us1`, `…_US1`) belong to it; the rest are global. Every stream
    // a server holds must be its own cluster's, and what a region needs must be there.
    const scopeOf = (stream: string) =>
      REGIONS.find((r) => stream.toLowerCase().endsWith(`_${r}`)) ?? "global";
    const required: Record<string, string[]> = {
      global: ["KV_sb_accounts", "KV_sb_account_status", "KV_sb_routing", `KV_${buckets.callSids}`],
    };
    for (const r of REGIONS) {
      const R = r.toUpperCase();
      required[r] = [
        `SB_CALLS_${R}`,
        `SB_INSPECT_${R}`,
        `OBJ_${buckets.recordings(r)}`,
        `KV_sb_routing_${r}`,
      ];
      for (const name of ["numbers", "calls", "actors", "notifications"] as const) {
        required[r]?.push(`KV_${buckets[name](r)}`);
      }
    }
    for (const cluster of sc.clusters) {
      const streams = await sc.streamsOn(cluster);
      const names = streams.map((s) => s.name);
      expect(
        names.filter((n) => scopeOf(n) !== cluster),
        `foreign streams on ${cluster}`,
      ).toEqual([]);
      expect(names).toEqual(expect.arrayContaining(required[cluster] ?? []));
      expect(streams.filter((s) => s.cluster !== cluster)).toEqual([]);
      if (cluster === "global") continue;
      // The calls left records, snapshots (deleted at the end: a marker stays), inspection events
      // and notifications, and all of them are here.
      const messages = Object.fromEntries(streams.map((s) => [s.name, s.messages]));
      for (const name of ["calls", "actors", "notifications"] as const) {
        expect(messages[`KV_${buckets[name](cluster)}`], `${name} in ${cluster}`).toBeGreaterThan(0);
      }
      expect(messages[`SB_INSPECT_${cluster.toUpperCase()}`]).toBeGreaterThan(0);
    }
  });

  it("runs a CallSid once across regions: an edge in another cluster refuses it for an ie1 number (20409)", async () => {
    const byRegion = { us1: "+15551230005", ie1: "+353155500005" } as const;
    for (const [region, number] of Object.entries(byRegion)) {
      await configure(number, [region]);
      await routedEverywhere(number, region);
    }
    const callSid = newSid("CA");
    const offer = (to: string) => ({ to, from: FROM, callSid, caller: { timeScale: 0 } });
    const placed = await offerCall(nc.us1 as NatsConnection, "ashburn", offer(byRegion.us1));
    expect(placed).toEqual({ callSid, region: "us1" });
    await expect(offerCall(nc.global as NatsConnection, "dublin", offer(byRegion.ie1))).rejects.toMatchObject(
      {
        code: 20409,
      },
    );
    // The same offer at the other edge is the same call.
    expect(await offerCall(nc.global as NatsConnection, "dublin", offer(byRegion.us1))).toEqual(placed);
    const kv = await new Kvm(nc.ie1 as NatsConnection).open(buckets.calls("ie1"));
    expect(await kv.get(callSid)).toBeNull();
    expect(apps.ie1?.requests.filter((r) => r.params.CallSid === callSid)).toEqual([]);
  });

  it("answers an offer for a region whose servers are down with 90003, at once", async () => {
    const number = "+353155500004";
    await configure(number, ["ie1"]);
    await routedEverywhere(number, "ie1");
    await sc.server("ie1").stop();
    const started = Date.now();
    await expect(
      offerCall(nc.global as NatsConnection, "dublin", { to: number, from: FROM }),
    ).rejects.toMatchObject({
      code: 90003,
    });
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});
