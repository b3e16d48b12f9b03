// Issue #16, item 8: an edge knows which accounts exist, never their tokens. It reads
// `sb_account_status` (written with each account), and the api backfills the status of accounts
// stored before that bucket existed, so an upgrade keeps every account's calls flowing.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, newAuthToken } from "../../src/admin/accounts.js";
import { startApi } from "../../src/api/server.js";
import { Edge } from "../../src/edge/edge.js";
import type { AccountRecord } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { encode } from "../../src/protocol/codec.js";
import { readReply } from "../../src/protocol/service-error.js";
import { type GlobalStores, openGlobalStores } from "../../src/store/global.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

const log = pino({ level: "silent" });
let nats: NatsServer;
let nc: NatsConnection;
let global: GlobalStores;

beforeAll(async () => {
  nats = await startTestNatsServer();
  nc = await connect({ servers: nats.url });
  await provisionRegionStreams(nc, "us1");
  global = await openGlobalStores(nc);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** The edge's answer to an offer naming `accountSid`: its code when refused, "accepted" otherwise. */
async function offer(accountSid: string): Promise<number | "accepted"> {
  const msg = await nc.request(
    "sb.edge.dublin.offer",
    encode({ to: "+15551230001", from: "+15557654321", accountSid }),
    {
      timeout: 5_000,
    },
  );
  try {
    readReply(msg);
    return "accepted";
  } catch (err) {
    return (err as { code: number }).code;
  }
}

async function withEdge<T>(fn: () => Promise<T>): Promise<T> {
  const edge = await Edge.start({ nc, edge: "dublin", log });
  try {
    return await fn();
  } finally {
    await edge.stop();
  }
}

describe("accounts as an edge sees them", () => {
  it("writes an account's status, without its secrets, next to the account", async () => {
    const sid = newSid("AC");
    const token = newAuthToken();
    await addAccount(global, {
      sid,
      token,
      signingKey: { sid: "SK1", secret: "s3cr3t-signing", algorithm: "HMAC_SHA1" },
    });
    const status = await global.accountStatus.kv.get(sid);
    expect(status?.json()).toEqual({ sid, status: "active" });
    expect(status?.string()).not.toContain(token);
    expect(status?.string()).not.toContain("s3cr3t");
    expect(await withEdge(() => offer(sid))).toBe("accepted");
    expect(await withEdge(() => offer(newSid("AC")))).toBe(20404);
  });

  it("knows an account stored before the status bucket once the api has backfilled it", async () => {
    // An account as an older switchboard stored it: in sb_accounts only.
    const sid = newSid("AC");
    const old: AccountRecord = {
      sid,
      auth_token: newAuthToken(),
      friendly_name: "from before the upgrade",
      status: "active",
      date_created: new Date().toUTCString(),
      date_updated: new Date().toUTCString(),
      webhook_signing_key: null,
    };
    await global.accounts.put(sid, old);
    expect(await withEdge(() => offer(sid))).toBe(20404);

    const api = await startApi({ nc, port: 0, log });
    await api.close();
    expect((await global.accountStatus.kv.get(sid))?.json()).toEqual({ sid, status: "active" });
    expect(await withEdge(() => offer(sid))).toBe("accepted");
  });
});
