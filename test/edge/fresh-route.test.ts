// Issue #19 (item 6): a call placed right after `numbers add` was sent to the default region (us1)
// and failed there (90004), because the edge's copy of the routing table (a KV watch) had not seen
// the new route yet. On a miss the edge now asks the routing table itself before defaulting. The
// test holds the edge's copy still (its watch stopped), so the copy cannot catch up: only that
// fallback can route the call.

import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { Edge } from "../../src/edge/edge.js";
import { newSid } from "../../src/model/sid.js";
import { openGlobalStores } from "../../src/store/global.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { setUp, type Teardown } from "../helpers/teardown.js";

let t: Teardown;
let edge: Edge;
let global: Awaited<ReturnType<typeof openGlobalStores>>;
let nc: Awaited<ReturnType<typeof connect>>;

beforeAll(async () => {
  await setUp(async (teardown) => {
    t = teardown;
    const nats = t.use(await startTestNatsServer());
    nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
    global = await openGlobalStores(nc);
    await Promise.all([provisionRegionStreams(nc, "us1"), provisionRegionStreams(nc, "ie1")]);
    edge = t.add(await Edge.start({ nc, edge: "ashburn", log: pino({ level: "silent" }) }), (e) => e.stop());
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe("the edge's routing of a number added a moment ago", () => {
  it("sends the call to the number's region, and knows its new account, before its copy of the table has caught up", async () => {
    // The copy stops here: everything written after is unknown to it.
    edge.routing.stop();
    const accountSid = newSid("AC");
    await addAccount(global, { sid: accountSid, token: "token-of-a-new-account" });
    const number = "+15551239006";
    await addNumber(nc, global, { number, region: "ie1", accountSid, voiceUrl: "http://127.0.0.1:1/voice" });
    expect(edge.routing.get("15551239006")).toBeUndefined();

    const reply = await edge.accept({ to: number, from: "+15557654321", accountSid });
    expect(reply.region).toBe("ie1");
  });

  it("still sends a number with no route to the default region", async () => {
    const reply = await edge.accept({ to: "+15551239007", from: "+15557654321" });
    expect(reply.region).toBe("us1");
  });
});
