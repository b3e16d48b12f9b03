// The edge's offer subject is public: random offers, as bytes and as structured values in msgpack
// and JSON, against a real nats-server and an in-process Edge. Each gets a reply (a value or an
// error reply with a registry code), bad ones create no call, and the edge keeps answering.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, newAuthToken } from "../../src/admin/accounts.js";
import { Edge } from "../../src/edge/edge.js";
import { newSid } from "../../src/model/sid.js";
import { encode, jsonHeaders } from "../../src/protocol/codec.js";
import type { OfferReply } from "../../src/protocol/offer.js";
import { offerCall } from "../../src/protocol/offer.js";
import { readReply } from "../../src/protocol/service-error.js";
import { openGlobalStores } from "../../src/store/global.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";
import { assertClearError, runs } from "./expect-refusal.js";

const EDGE = "fuzzland";
const OFFER_CODES = [90001, 90002, 21211, 21212, 20404];
const RUNS = runs(60);

let nats: NatsServer;
let nc: NatsConnection;
let edge: Edge;
const accountSid = newSid("AC");
/** CallSids of accepted offers: the streams must hold exactly these new calls. */
const accepted = new Set<string>();
let before = 0;

async function storedCalls(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  let n = 0;
  for (const r of ["US1", "IE1"]) n += (await jsm.streams.info(`SB_CALLS_${r}`)).state.messages;
  return n;
}

beforeAll(async () => {
  nats = await startTestNatsServer();
  nc = await connect({ servers: nats.url });
  await Promise.all([provisionRegionStreams(nc, "us1"), provisionRegionStreams(nc, "ie1")]);
  await addAccount(await openGlobalStores(nc), { sid: accountSid, token: newAuthToken() });
  edge = await Edge.start({ nc, edge: EDGE, log: pino({ level: "silent" }) });
  before = await storedCalls();
});

afterAll(async () => {
  await edge?.stop();
  await nc?.close();
  await nats?.stop();
});

/** Sends one offer; returns the reply value or checks the error reply's code. */
async function offer(payload: Uint8Array, json: boolean): Promise<OfferReply | undefined> {
  const msg = await nc.request(`sb.edge.${EDGE}.offer`, payload, {
    timeout: 5_000,
    ...(json && { headers: jsonHeaders() }),
  });
  try {
    const reply = readReply(msg) as OfferReply;
    expect(reply.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    accepted.add(reply.callSid);
    return reply;
  } catch (err) {
    assertClearError(err, OFFER_CODES);
    return undefined;
  }
}

const fixedSid = newSid("CA");
const structuredOffer = fc.record(
  {
    to: fc.oneof(
      fc.constantFrom("+15551230001", "+353155500001"),
      fc.string({ maxLength: 70 }),
      fc.integer(),
    ),
    from: fc.oneof(
      fc.constantFrom("+15557654321", "anonymous", "client:alice", "sip:alice@example.com"),
      fc.string({ maxLength: 310 }),
    ),
    callSid: fc.oneof(fc.constant(fixedSid), fc.constant("CA123"), fc.string()),
    accountSid: fc.oneof(fc.constant(accountSid), fc.constant(newSid("AC")), fc.string()),
    sipHeaders: fc.dictionary(fc.string({ maxLength: 130 }), fc.oneof(fc.string(), fc.integer())),
    geo: fc.dictionary(fc.constantFrom("FromCity", "ToZip", "Bogus", "__proto__"), fc.string()),
    caller: fc.record(
      {
        digits: fc.array(fc.string({ maxLength: 70 }), { maxLength: 3 }),
        hangupAfter: fc.double(),
        timeScale: fc.double(),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["to", "from"] },
);
const anyOffer = fc.oneof(structuredOffer, fc.anything({ maxDepth: 3 }));

describe("random offers at a live edge", () => {
  it("get a reply for arbitrary bytes, with and without the JSON header", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.boolean(), async (bytes, json) => {
        await offer(bytes, json);
      }),
      RUNS,
    );
  });

  it("get a reply for random structured offers in msgpack and JSON", async () => {
    await fc.assert(
      fc.asyncProperty(anyOffer, fc.boolean(), async (value, json) => {
        let payload: Uint8Array;
        try {
          payload = encode(value, json ? "json" : "msgpack");
        } catch {
          return; // not encodable (a BigInt in JSON, …): nobody can send it
        }
        await offer(payload, json && payload.length > 0);
      }),
      RUNS,
    );
  });

  it("still answers a good offer, and stored exactly the accepted calls", async () => {
    const reply = await offerCall(nc, EDGE, { to: "+15551230001", from: "+15557654321" });
    accepted.add(reply.callSid);
    expect(reply.region).toBe("us1");
    expect(await storedCalls()).toBe(before + accepted.size);
    expect(edge.counters.offers).toBe(edge.counters.accepted + edge.counters.rejected);
  });
});
