// A region with no worker running: its calls wait, durable, in its stream and run once a worker
// appears, unless they waited longer than the workers allow; those end `failed` with 90005 and one
// record, without ever requesting the app's webhook. A plain single server is enough for this.
import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { type CallProgress, placeCall, readCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import { newSid } from "../../src/model/sid.js";
import type { CallJob } from "../../src/protocol/call-job.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { streams, subjects } from "../../src/protocol/subjects.js";
import { RegionWorker } from "../../src/region/worker.js";
import { type GlobalStores, openGlobalStores } from "../../src/store/global.js";
import { listNotifications, openNotifications } from "../../src/store/notifications.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";
import { startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";

const log = pino({ level: "silent" });
const token = randomBytes(16).toString("hex");
const accountSid = newSid("AC");
const NUMBER = "+15551230009";

let nats: NatsServer;
let nc: NatsConnection;
let app: TwilioApp;
let global: GlobalStores;
let edge: Edge;
let worker: RegionWorker | undefined;

beforeAll(async () => {
  nats = await startTestNatsServer();
  nc = await connect({ servers: nats.url });
  app = await startTwilioApp(token, { "/voice": () => ({ body: "<Response><Say>Hi</Say></Response>" }) });
  // The region's stream exists (a worker ran there once), but no worker runs now.
  await provisionRegionStreams(nc, "us1");
  global = await openGlobalStores(nc);
  await addAccount(global, { sid: accountSid, token });
  await addNumber(nc, global, { number: NUMBER, region: "us1", voiceUrl: `${app.url}/voice`, accountSid });
  edge = await Edge.start({ nc, edge: "ashburn", log });
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

afterAll(async () => {
  await edge?.stop();
  await app?.close();
  await nc?.close();
  await nats?.stop();
});

async function waiting(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(streams.calls("us1"))).state.messages;
}

/** Resolves with the `ended` event the region publishes for the call. */
function ended(callSid: string, timeoutMs = 10_000): Promise<ChannelOut> {
  const sub = nc.subscribe(subjects().callOut("us1", callSid), { timeout: timeoutMs });
  return (async () => {
    for await (const msg of sub) {
      const event = decode(msg.data) as ChannelOut;
      if (event.kind === "ended") {
        sub.unsubscribe();
        return event;
      }
    }
    throw new Error(`call ${callSid} did not end`);
  })();
}

describe("a region with no worker", () => {
  it("keeps an accepted call in its stream and runs it when a worker starts", async () => {
    let offered!: () => void;
    const accepted = new Promise<void>((resolve) => {
      offered = resolve;
    });
    const onProgress = (p: CallProgress) => p.source === "offered" && offered();
    const placed = placeCall(nc, {
      to: NUMBER,
      from: "+15557654321",
      edge: "ashburn",
      onProgress,
      caller: { timeScale: 0 },
    });
    await accepted;
    expect(await waiting()).toBe(1);
    expect(app.requests).toHaveLength(0);

    worker = await RegionWorker.start({ nc, region: "us1", log });
    const { call } = await placed;
    expect(call).toMatchObject({ status: "completed", to: NUMBER });
    expect(app.requests).toHaveLength(1);
    expect(await waiting()).toBe(0);
  });

  it("ends a call that waited longer than the workers allow as failed with 90005, one record, no webhook", async () => {
    const before = app.requests.length;
    // As an edge stores it, but offered two minutes ago: the region had no worker since.
    const job: CallJob = {
      callSid: newSid("CA"),
      to: NUMBER,
      from: "+15557654321",
      edge: "ashburn",
      region: "us1",
      offeredAt: Date.now() - 120_000,
    };
    const end = ended(job.callSid);
    await nc.flush();
    await jetstream(nc).publish(subjects().regionCalls("us1"), encode(job), { msgID: job.callSid });

    worker = await RegionWorker.start({ nc, region: "us1", log, maxWaitMs: 60_000 });
    expect(await end).toMatchObject({ kind: "ended", status: "failed", region: "us1" });
    const call = await readCall(nc, "us1", job.callSid);
    expect(call).toMatchObject({
      sid: job.callSid,
      status: "failed",
      error_code: 90005,
      account_sid: accountSid,
      duration: null,
      to: NUMBER,
    });
    expect(call.error_message).toMatch(/no worker in us1 took the call for 120 s/);
    expect(call.phone_number_sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(worker.counters).toMatchObject({ expired: 1, started: 0 });
    expect(await waiting()).toBe(0);
    expect(app.requests).toHaveLength(before);
    const notifications = await openNotifications(nc, "us1");
    const watch = await notifications.kv.watch({ key: `${job.callSid}.*` });
    const timer = setTimeout(() => watch.stop(), 5_000);
    for await (const e of watch) if (e.operation === "PUT") break;
    clearTimeout(timer);
    watch.stop();
    expect((await listNotifications(notifications, job.callSid)).map((n) => n.error_code)).toEqual(["90005"]);
  });
});
