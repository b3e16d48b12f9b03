// A whole engine in the test process: a real nats-server, an account, a region worker and an edge,
// so a test can add numbers, place calls and read what was stored.
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { addAccount } from "../../src/admin/accounts.js";
import { type AddNumberOptions, addNumber } from "../../src/admin/numbers.js";
import { type PlaceCallOptions, type PlacedCall, placeCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import type { AccountRecord } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { RegionWorker } from "../../src/region/worker.js";
import { type GlobalStores, openGlobalStores } from "../../src/store/global.js";
import {
  listNotifications,
  type NotificationRecord,
  openNotifications,
} from "../../src/store/notifications.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "./nats-server.js";
import { startShippedNatsServer } from "./shipped-users.js";
import { regionUser } from "./supercluster.js";
import { setUp, type Teardown } from "./teardown.js";

export interface TestEngine extends AsyncDisposable {
  nats: NatsServer;
  nc: NatsConnection;
  global: GlobalStores;
  accountSid: string;
  authToken: string;
  /**
   * A connection as a role's NATS user (`api`, `region-us1` …), closed with the engine: with
   * `shippedUsers`, that user's rights in the shipped deploy/nats configs; without, an unrestricted one.
   */
  connectAs(user: string): Promise<NatsConnection>;
  /** The server's URL for a CLI's `--nats`: with `shippedUsers`, with admin's credentials in it. */
  adminUrl: string;
  /** The in-process worker; undefined with `worker: false` (the test runs worker processes itself). */
  worker: RegionWorker | undefined;
  edge: Edge;
  addNumber(opts: Omit<AddNumberOptions, "region" | "accountSid"> & { region?: string }): Promise<void>;
  call(opts: Partial<PlaceCallOptions> & { to: string }): Promise<PlacedCall>;
  notifications(callSid: string): Promise<NotificationRecord[]>;
}

export async function startTestEngine(
  opts: {
    region?: string;
    signingKey?: AccountRecord["webhook_signing_key"];
    worker?: boolean;
    /** Run on the shipped deploy/nats users: `nc` is admin, the worker and the edge their own users. */
    shippedUsers?: boolean;
  } = {},
): Promise<TestEngine> {
  const region = opts.region ?? "us1";
  return setUp(async (t) => {
    const shipped = opts.shippedUsers ? t.use(await startShippedNatsServer()) : undefined;
    const nats = shipped ?? t.use(await startTestNatsServer());
    const connectAs = async (user: string) =>
      t.add(await (shipped ? shipped.connectAs(user) : connect({ servers: nats.url })), (c) => c.close());
    const nc = await connectAs("admin");
    // Without the shipped users, the worker and the edge share `nc`, as they always have here.
    const roleNc = async (user: string) => (shipped ? connectAs(user) : nc);
    const log = pino({ level: "silent" });
    const global = await openGlobalStores(nc);
    const accountSid = newSid("AC");
    const authToken = randomBytes(16).toString("hex");
    await addAccount(global, { sid: accountSid, token: authToken, signingKey: opts.signingKey ?? null });
    const worker =
      opts.worker === false
        ? undefined
        : t.add(await RegionWorker.start({ nc: await roleNc(regionUser(region)), region, log }), (w) =>
            w.stop(),
          );
    // Without a worker of its own, the region's streams must still be there for the edge to store calls.
    if (!worker) await provisionRegionStreams(nc, region);
    const edge = t.add(await Edge.start({ nc: await roleNc("edge"), edge: "ashburn", log }), (e) => e.stop());
    const notifications = await openNotifications(nc, region);
    const adminUrl = shipped ? shipped.urlAs("admin") : nats.url;
    const parts = { nats, nc, connectAs, adminUrl, global, accountSid, authToken, worker, edge };
    return engine(!!opts.shippedUsers, parts, region, notifications, t);
  });
}

function engine(
  shipped: boolean,
  parts: Pick<
    TestEngine,
    "nats" | "nc" | "connectAs" | "adminUrl" | "global" | "accountSid" | "authToken" | "worker" | "edge"
  >,
  region: string,
  notifications: Awaited<ReturnType<typeof openNotifications>>,
  t: Teardown,
): TestEngine {
  const { nc, global, accountSid } = parts;
  return {
    ...parts,
    addNumber: async (n) => {
      await addNumber(nc, global, { region, accountSid, ...n });
    },
    call: (c) =>
      placeCall(nc, {
        from: "+15557654321",
        edge: "ashburn",
        caller: { timeScale: 0 },
        timeoutMs: 20_000,
        ...c,
      }),
    notifications: (callSid) => listNotifications(notifications, callSid),
    [Symbol.asyncDispose]: async () => {
      // On the shipped users, any refusal the server logged fails the test that disposes the engine.
      const refused = shipped
        ? parts.nats
            .output()
            .split("\n")
            .filter((l) => /violation/i.test(l))
        : [];
      await t.stop();
      if (refused.length > 0) throw new Error(`the shipped NATS users refused:\n${refused.join("\n")}`);
    },
  };
}
