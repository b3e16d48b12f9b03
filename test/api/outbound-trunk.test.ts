// Issue #17, outbound calls through a trunk, as far as the region goes without a SIP gateway: the
// INVITE it asks any gateway for (Request-URI, next hop and From from the trunk, no password), and a
// clear failure (90014, CallStatus failed) when no gateway takes it. test/sip/outbound-trunk.test.ts
// places the same calls through a real gateway to real SIP peers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { addTrunk } from "../../src/admin/trunks.js";
import { decode } from "../../src/protocol/codec.js";
import { type Originate, OriginateSchema } from "../../src/protocol/sip-legs.js";
import { subjects } from "../../src/protocol/subjects.js";
import { openTrunkStores } from "../../src/store/global.js";
import type { ReceivedRequest } from "../helpers/twilio-app.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { type Stack, startStack } from "./helpers/stack.js";
import { twilioClient } from "./helpers/twilio-client.js";

const FROM = "+15551251001";
const OWN_TRUNK_FROM = "+15551251002";
/** A number with its own trunk, configured and routed in ie1: a call from it through us1 still uses it. */
const IE1_TRUNK_FROM = "+15551250077";
const PSTN = "+15559871001";
const SECRET = "s3cret-trunk-password";

let stack: Stack;
let client: ReturnType<typeof twilioClient>["client"];

beforeAll(async () => {
  stack = await startStack({
    routes: {
      "/outbound": () => ({ body: new VoiceResponse().say("Never heard").toString() }),
      "/status": () => ({ status: 204, body: "" }),
    },
  });
  ({ client } = twilioClient(stack.api.url, stack.account));
  const trunks = await openTrunkStores(stack.nc);
  const admin = { ...stack.global, ...trunks };
  await addTrunk(trunks, {
    name: "carrier",
    host: "sip.carrier.example:5080",
    transport: "tcp",
    username: "acme",
    password: SECRET,
    fromDomain: "acme.example",
  });
  await addTrunk(trunks, { name: "other", host: "10.1.2.3" });
  await updateAccount(admin, stack.account.sid, { trunk: "carrier" });
  await stack.number(FROM);
  for (const [number, region] of [
    [OWN_TRUNK_FROM, "us1"],
    [IE1_TRUNK_FROM, "ie1"],
  ] as const) {
    await addNumber(stack.nc, admin, {
      number,
      region,
      voiceUrl: `${stack.app.url}/voice`,
      accountSid: stack.account.sid,
      trunk: "other",
    });
  }
}, 60_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function finalCallback(callSid: string): Promise<ReceivedRequest> {
  return stack.app.waitFor(
    (r) => r.path === "/status" && r.params.CallSid === callSid && r.params.CallStatus !== "initiated",
    20_000,
  );
}

/** Takes the next originate a region sends (as a gateway that never replies would). */
function nextOriginate(): Promise<{ originate: Originate; raw: string }> {
  const sub = stack.nc.subscribe(subjects().sipAnyOriginate(), { max: 1 });
  return (async () => {
    for await (const m of sub) {
      return {
        originate: OriginateSchema.parse(decode(m.data)),
        raw: Buffer.from(m.data).toString("latin1"),
      };
    }
    throw new Error("no originate");
  })();
}

describe("POST Calls.json through a trunk", () => {
  it("asks any gateway for an INVITE to the number at the account's trunk, From the caller, without the trunk's password", async () => {
    const taken = nextOriginate();
    const created = await client.calls.create({
      to: PSTN,
      from: FROM,
      url: `${stack.app.url}/outbound`,
      timeout: 25,
      statusCallback: `${stack.app.url}/status`,
    });
    const { originate, raw } = await taken;
    expect(originate).toEqual({
      legSid: created.sid,
      region: "us1",
      uri: `sip:${PSTN}@sip.carrier.example`,
      from: { user: FROM, host: "acme.example" },
      nextHop: { host: "sip.carrier.example", port: 5080, transport: "tcp" },
      trunk: "carrier",
      timeoutMs: 25_000,
    });
    // The gateway adds the credentials itself (it may read sb_trunks; a region may not).
    expect(raw).not.toContain(SECRET);
    // No gateway replied within its bound: the call fails, it does not hang.
    expect((await finalCallback(created.sid)).params).toMatchObject({
      CallStatus: "failed",
      Direction: "outbound-api",
    });
  }, 30_000);

  it("uses the From number's own trunk when another region holds its config (the call runs in the request's)", async () => {
    const taken = nextOriginate();
    const call = await client.calls.create({ to: PSTN, from: IE1_TRUNK_FROM, twiml: "<Response/>" });
    expect((await taken).originate).toMatchObject({ uri: `sip:${PSTN}@10.1.2.3`, trunk: "other" });
    expect(call.phoneNumberSid).toMatch(/^PN[0-9a-f]{32}$/);
  }, 30_000);

  it("uses the From number's own trunk over its account's, and sends a sip: To straight to its host", async () => {
    const status = `${stack.app.url}/status`;
    let taken = nextOriginate();
    const first = await client.calls.create({
      to: PSTN,
      from: OWN_TRUNK_FROM,
      twiml: "<Response/>",
      statusCallback: status,
    });
    expect((await taken).originate).toMatchObject({
      uri: `sip:${PSTN}@10.1.2.3`,
      from: { user: OWN_TRUNK_FROM, host: "10.1.2.3" },
      nextHop: { host: "10.1.2.3", port: 5060, transport: "udp" },
      trunk: "other",
    });
    taken = nextOriginate();
    const second = await client.calls.create({
      to: "sip:alice@pbx.example.com",
      from: FROM,
      twiml: "<Response/>",
      statusCallback: status,
    });
    const { originate } = await taken;
    expect(originate.uri).toBe("sip:alice@pbx.example.com");
    expect(originate.nextHop).toBeUndefined();
    expect(originate.trunk).toBeUndefined();
    // Both end failed once their originate has gone unanswered (a gateway that never replies).
    for (const sid of [first.sid, second.sid])
      expect((await finalCallback(sid)).params.CallStatus).toBe("failed");
  }, 30_000);

  it("fails at once with 90014 when no SIP gateway is running", async () => {
    const created = await client.calls.create({
      to: PSTN,
      from: FROM,
      url: `${stack.app.url}/outbound`,
      statusCallback: `${stack.app.url}/status`,
      statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
    });
    const final = await finalCallback(created.sid);
    expect(final.params).toMatchObject({ CallStatus: "failed", SequenceNumber: "1" });
    expect(Number(final.params.CallDuration)).toBe(0);
    const call = await client.calls(created.sid).fetch();
    expect(call.status).toBe("failed");
    const notes = await client.calls(created.sid).notifications.list();
    expect(notes.map((n) => [n.errorCode, n.log])).toContainEqual(["90014", "0"]);
    // Nothing was fetched: the callee never answered.
    expect(stack.app.requests.some((r) => r.path === "/outbound" && r.params.CallSid === created.sid)).toBe(
      false,
    );
  }, 30_000);
});
