// NATS users per role (docs/regions.md) on a real supercluster with authorization on: a us1 worker
// with its own credentials runs its region (a call placed through an edge that uses the edge's
// credentials completes there), and the same credentials cannot touch ie1: not its call stream, not
// its buckets, not its subjects.
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { placeCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import { newSid } from "../../src/model/sid.js";
import { buckets } from "../../src/protocol/subjects.js";
import { RegionWorker } from "../../src/region/worker.js";
import { openGlobalStores } from "../../src/store/global.js";
import { regionUser, type Supercluster, startSupercluster } from "../helpers/supercluster.js";
import { startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";

const log = pino({ level: "silent" });
const token = randomBytes(16).toString("hex");
const accountSid = newSid("AC");

let sc: Supercluster;
let admin: NatsConnection;
let us1: NatsConnection;
let ie1: NatsConnection;
let edgeNc: NatsConnection;
let app: TwilioApp;
const workers: RegionWorker[] = [];
let edge: Edge;

/** Server log lines that report a refused publish or subscription. */
const violations = () =>
  sc.clusters.flatMap((c) =>
    sc
      .server(c)
      .output()
      .split("\n")
      .filter((l) => /violation/i.test(l)),
  );

beforeAll(async () => {
  sc = await startSupercluster({ regions: ["us1", "ie1"], auth: true });
  admin = await connect({ servers: sc.url("global"), ...sc.credentials("admin") });
  us1 = await connect({ servers: sc.url("us1"), ...sc.credentials(regionUser("us1")) });
  ie1 = await connect({ servers: sc.url("ie1"), ...sc.credentials(regionUser("ie1")) });
  edgeNc = await connect({ servers: sc.url("global"), ...sc.credentials("edge") });
  app = await startTwilioApp(token, { "/voice": () => ({ body: "<Response><Say>us1</Say></Response>" }) });
  // The account first: a worker loads the accounts when it starts.
  await addAccount(await openGlobalStores(admin), { sid: accountSid, token });
  // Each region's workers with their own credentials; they create their region's storage.
  workers.push(await RegionWorker.start({ nc: us1, region: "us1", log }));
  workers.push(await RegionWorker.start({ nc: ie1, region: "ie1", log }));
  edge = await Edge.start({ nc: edgeNc, edge: "dublin", log });
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([admin, us1, ie1, edgeNc].map((c) => c?.close()));
  await app?.close();
  await sc?.stop();
}, 30_000);

describe("NATS users per role", () => {
  it("lets a us1 worker with its own credentials run its region's calls, offered by an edge with its own", async () => {
    const number = "+15551240001";
    const global = await openGlobalStores(admin);
    await addNumber(admin, global, { number, region: "us1", voiceUrl: `${app.url}/voice`, accountSid });
    await new Promise<void>((resolve) => {
      const check = () => edge.regionFor(number) === "us1" && resolve();
      edge.routing.onChange = check;
      check();
    });
    edge.routing.onChange = undefined;
    // The caller (a carrier's side, not a switchboard role) uses the operators' user.
    const placed = await placeCall(admin, {
      to: number,
      from: "+15557654321",
      edge: "dublin",
      caller: { timeScale: 0 },
      timeoutMs: 15_000,
    }).catch((err) => {
      // A role missing a permission usually shows as a call that never ends: say what was refused.
      throw new Error(`${(err as Error).message}; refused: ${violations().join("\n") || "nothing"}`);
    });
    expect(placed.region).toBe("us1");
    expect(placed.call).toMatchObject({ status: "completed", to: number });
    expect((await app.waitForRequests(1))[0]?.params.CallSid).toBe(placed.callSid);
    // Nothing any role did on the way was refused.
    expect(violations()).toEqual([]);
  });

  it("refuses the us1 worker's credentials ie1's call stream, buckets and subjects", async () => {
    // ie1's storage exists (its worker made it): a refusal is the permission, not a missing stream.
    expect((await (await new Kvm(admin).open(buckets.calls("ie1"))).status()).bucket).toBe(
      buckets.calls("ie1"),
    );

    await expect(us1.request("sb.region.ie1.calls", "{}", { timeout: 2_000 })).rejects.toThrow(
      /permissions violation for publish to "sb.region.ie1.calls"/i,
    );
    const ie1Calls = await new Kvm(us1).open(buckets.calls("ie1"));
    await expect(ie1Calls.get("CA0")).rejects.toThrow(/permissions violation/i);
    await expect(ie1Calls.put("CA0", "{}")).rejects.toThrow(/permissions violation/i);
    await expect(
      us1.request(`$JS.API.DIRECT.GET.KV_sb_calls_ie1.$KV.sb_calls_ie1.CA0`, "", { timeout: 2_000 }),
    ).rejects.toThrow(/permissions violation/i);

    const sub = us1.subscribe("sb.region.ie1.>");
    const closed = await sub.closed;
    expect(String(closed)).toMatch(/permissions violation for subscription to "sb.region.ie1.>"/i);

    // Its own region's are fine, and the connection is still up.
    expect(await (await new Kvm(us1).open(buckets.calls("us1"))).get("CA0")).toBeNull();
    expect(us1.isClosed()).toBe(false);
  });
});
