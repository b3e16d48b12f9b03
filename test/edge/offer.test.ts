// The edge's offer subject is a public contract: anyone can publish to it, so every offer is
// validated, bad ones get a clear error reply (Twilio's code where there is one), and none of them
// creates a call or takes the edge down.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, newAuthToken } from "../../src/admin/accounts.js";
import { addNumber, routeNumber } from "../../src/admin/numbers.js";
import { Edge } from "../../src/edge/edge.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { newSid } from "../../src/model/sid.js";
import { encode, jsonHeaders } from "../../src/protocol/codec.js";
import { offerCall } from "../../src/protocol/offer.js";
import { readReply } from "../../src/protocol/service-error.js";
import { openGlobalStores } from "../../src/store/global.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
const accountSid = newSid("AC");

beforeAll(async () => {
  nats = await startTestNatsServer();
  nc = await connect({ servers: nats.url });
  await Promise.all([provisionRegionStreams(nc, "us1"), provisionRegionStreams(nc, "ie1")]);
  const global = await openGlobalStores(nc);
  await addAccount(global, { sid: accountSid, token: newAuthToken() });
  await addNumber(nc, global, {
    number: "+353155500001",
    region: "ie1",
    voiceUrl: "http://127.0.0.1:1/v",
    accountSid,
  });
  edge = await Edge.start({ nc, edge: "dublin", log: pino({ level: "silent" }) });
});

afterAll(async () => {
  await edge?.stop();
  await nc?.close();
  await nats?.stop();
});

async function pending(region: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(`SB_CALLS_${region.toUpperCase()}`)).state.messages;
}

async function refusal(payload: Uint8Array, json = false): Promise<SwitchboardError> {
  const msg = await nc.request("sb.edge.dublin.offer", payload, {
    timeout: 5_000,
    ...(json && { headers: jsonHeaders() }),
  });
  try {
    readReply(msg);
  } catch (err) {
    return err as SwitchboardError;
  }
  throw new Error("the edge accepted a bad offer");
}

describe("the edge's offer subject", () => {
  it("refuses bad offers with a clear code and creates no call", async () => {
    const before = await pending("us1");
    const cases: [Uint8Array, boolean, number, RegExp][] = [
      [encode({ to: "5551234", from: "+15557654321" }), false, 21211, /'To' is not an E\.164 number/],
      [encode({ to: "+15551230001", from: "+1 555 765" }), false, 21212, /'From'/],
      [
        encode({ to: "+15551230001", from: "+15557654321", accountSid: newSid("AC") }),
        false,
        20404,
        /unknown account/,
      ],
      [encode({ to: "+15551230001", from: "+15557654321", callSid: "CA123" }), false, 90002, /callSid/],
      [encode({ to: 15551230001, from: "+15557654321" }), false, 90002, /invalid offer: to/],
      [encode(["not", "an", "object"]), false, 90002, /invalid offer/],
      [new Uint8Array([0xc1, 0xff, 0x00]), false, 90001, /not valid msgpack/],
      [new TextEncoder().encode("{not json"), true, 90001, /not valid json/],
      [new Uint8Array(), false, 90001, /empty payload/],
      [
        encode({ to: "+15551230001", from: "+15557654321", pad: "y".repeat(17_000) }),
        false,
        90007,
        /limit is 16384/,
      ],
    ];
    for (const [payload, json, code, message] of cases) {
      const err = await refusal(payload, json);
      expect(err, message.source).toBeInstanceOf(SwitchboardError);
      expect(err.code, message.source).toBe(code);
      expect(err.message).toMatch(message);
    }
    expect(await pending("us1")).toBe(before);
    expect(edge.counters.rejected).toBe(cases.length);
  });

  it("still answers good offers after bad ones, in msgpack and in JSON", async () => {
    const reply = await offerCall(nc, "dublin", { to: "+15551230001", from: "+15557654321" });
    expect(reply.region).toBe("us1");
    expect(reply.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    const msg = await nc.request(
      "sb.edge.dublin.offer",
      new TextEncoder().encode(JSON.stringify({ to: "+15551230002", from: "anonymous" })),
      { headers: jsonHeaders(), timeout: 5_000 },
    );
    expect(msg.headers?.get("Content-Type")).toBe("application/json");
    expect(JSON.parse(new TextDecoder().decode(msg.data))).toMatchObject({ region: "us1" });
  });

  it("routes by the routing table and stores a re-offered CallSid once", async () => {
    const callSid = newSid("CA");
    const before = await pending("ie1");
    const first = await offerCall(nc, "dublin", { to: "+353155500001", from: "+15557654321", callSid });
    const again = await offerCall(nc, "dublin", { to: "+353155500001", from: "+15557654321", callSid });
    expect(first).toEqual({ callSid, region: "ie1" });
    expect(again).toEqual(first);
    expect(await pending("ie1")).toBe(before + 1);
  });

  it("follows a routing change without a restart", async () => {
    const global = await openGlobalStores(nc);
    const changed = new Promise<void>((resolve) => {
      edge.routing.onChange = (key, value) => {
        if (key === "15551239999" && value?.region === "ie1") resolve();
      };
    });
    await routeNumber(global, "+15551239999", "ie1");
    await changed;
    expect((await offerCall(nc, "dublin", { to: "+15551239999", from: "+15557654321" })).region).toBe("ie1");
  });

  it("answers 90003 when the region has no call stream", async () => {
    const global = await openGlobalStores(nc);
    const changed = new Promise<void>((resolve) => {
      edge.routing.onChange = (key) => key === "15551238888" && resolve();
    });
    await routeNumber(global, "+15551238888", "zz9");
    await changed;
    const err = await offerCall(nc, "dublin", { to: "+15551238888", from: "+15557654321" }).catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe(90003);
  });
});
