// Who may touch `sb_trunks` under the SHIPPED deploy/nats users (issue #17): admin writes it; a SIP
// gateway reads it (hosts, credentials, inbound networks: its watched copy follows admin's changes)
// and the api reads it (REST); neither may write it; an edge and a region may not even read it.
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrunk } from "../../src/admin/trunks.js";
import { openAdminStores, openTrunkStores } from "../../src/store/global.js";
import { readTrunk, readTrunks, TrunkWatch } from "../../src/store/trunks.js";
import { type ShippedNatsServer, startShippedNatsServer } from "../helpers/shipped-users.js";

const TRUNK_PASSWORD = `pw-${randomBytes(8).toString("hex")}`;

let server: ShippedNatsServer;
const conns = new Map<string, NatsConnection>();
const as = (user: string) => conns.get(user) as NatsConnection;
const refused = /permissions violation/i;

beforeAll(async () => {
  server = await startShippedNatsServer();
  for (const user of ["admin", "api", "sip", "edge", "region-us1"]) {
    conns.set(user, await server.connectAs(user));
  }
  await addTrunk(await openAdminStores(as("admin")), {
    name: "carrier",
    host: "sip.carrier.example",
    username: "alice",
    password: TRUNK_PASSWORD,
    inboundCidrs: ["192.0.2.0/24"],
  });
}, 30_000);

afterAll(async () => {
  await Promise.all([...conns.values()].map((c) => c.close()));
  await server?.stop();
});

describe("sb_trunks under the shipped NATS users", () => {
  it("lets a SIP gateway read the trunks, credentials included, and follow admin's changes", async () => {
    const stores = await openTrunkStores(as("sip"));
    expect(await readTrunk(stores, "carrier")).toMatchObject({
      host: "sip.carrier.example",
      username: "alice",
      password: TRUNK_PASSWORD,
    });
    const watch = await TrunkWatch.start(stores.trunks.kv);
    try {
      expect(watch.inboundCidrs()).toEqual(["192.0.2.0/24"]);
      const changed = new Promise<string[]>((resolve) => {
        watch.onChange = resolve;
      });
      await addTrunk(await openAdminStores(as("admin")), {
        name: "second",
        host: "203.0.113.5",
        inboundCidrs: ["198.51.100.0/24"],
      });
      expect(await changed).toEqual(["192.0.2.0/24", "198.51.100.0/24"]);
    } finally {
      watch.stop();
    }
  });

  it("lets the api read the trunks", async () => {
    const names = (await readTrunks(await openAdminStores(as("api")))).map((t) => t.name);
    expect(names).toContain("carrier");
  });

  it.each(["api", "sip", "edge", "region-us1"])(
    "refuses %s writing, purging or deleting the trunks",
    async (user) => {
      const nc = as(user);
      for (const [subject, body] of [
        ["$KV.sb_trunks.carrier", JSON.stringify({ name: "carrier", host: "evil.example" })],
        ["$KV.sb_trunks.new", "{}"],
        ["$JS.API.STREAM.PURGE.KV_sb_trunks", "{}"],
        ["$JS.API.STREAM.DELETE.KV_sb_trunks", "{}"],
        ["$JS.API.STREAM.MSG.DELETE.KV_sb_trunks", JSON.stringify({ seq: 1 })],
        ["$JS.API.STREAM.UPDATE.KV_sb_trunks", JSON.stringify({ name: "KV_sb_trunks", sealed: true })],
      ] as const) {
        await expect(nc.request(subject, body, { timeout: 2_000 }), `${user}: ${subject}`).rejects.toThrow(
          refused,
        );
      }
    },
  );

  it.each(["edge", "region-us1"])("refuses %s every read of the trunks", async (user) => {
    const nc = as(user);
    for (const subject of [
      "$JS.API.STREAM.INFO.KV_sb_trunks",
      "$JS.API.DIRECT.GET.KV_sb_trunks.$KV.sb_trunks.carrier",
      "$JS.API.STREAM.MSG.GET.KV_sb_trunks",
      "$JS.API.CONSUMER.CREATE.KV_sb_trunks",
    ]) {
      await expect(nc.request(subject, "{}", { timeout: 2_000 }), `${user}: ${subject}`).rejects.toThrow(
        refused,
      );
    }
    await expect(openTrunkStores(nc)).rejects.toThrow();
    const sub = nc.subscribe("$KV.sb_trunks.>");
    expect(String(await sub.closed)).toMatch(refused);
  });

  it("leaves the trunk as admin wrote it", async () => {
    expect(await readTrunk(await openAdminStores(as("admin")), "carrier")).toMatchObject({
      host: "sip.carrier.example",
      password: TRUNK_PASSWORD,
    });
  });
});
