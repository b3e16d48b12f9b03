// Issue #16, items 6 and 8: the NATS users of the SHIPPED deploy/nats configs hold only what their
// role uses. One real nats-server runs the configs' own `authorization` block (passwords from the
// environment, as in production); a region, an edge, the api and a SIP gateway (a real SIP call) do their normal work
// with their own users, and then each role tries what an intruder holding its password would: delete
// an account, purge another region's route and write its own, seal the accounts, delete a bucket to
// re-create it as a mirror of ie1's, read the tokens. All refused; the data is untouched.

import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { type Api, startApi } from "../../src/api/server.js";
import { placeCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import { numberKey } from "../../src/model/phone.js";
import { newSid } from "../../src/model/sid.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { RegionWorker } from "../../src/region/worker.js";
import type { SipGateway } from "../../src/sip/gateway.js";
import { openGlobalStores } from "../../src/store/global.js";
import { RegistrationStore } from "../../src/store/sip-registrations.js";
import {
  authorizationOf,
  SHIPPED_REGIONS,
  type ShippedNatsServer,
  shippedConf,
  startShippedNatsServer,
} from "../helpers/shipped-users.js";
import { natsUsers } from "../helpers/supercluster.js";
import { startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "../sip/harness.js";

const log = pino({ level: "silent" });
const REGIONS = ["us1", "ie1"];

const token = randomBytes(16).toString("hex");
const accountSid = newSid("AC");
const US1_NUMBER = "+15551250001";
const IE1_NUMBER = "+353155500077";

let server: ShippedNatsServer;
const conns = new Map<string, NatsConnection>();
let app: TwilioApp;
let api: Api;
let edge: Edge;
let gateway: SipGateway;
let sipPort: number;
const workers: RegionWorker[] = [];

const as = (user: string) => conns.get(user) as NatsConnection;
const violations = () => server.violations();

beforeAll(async () => {
  // The three clusters' files carry the same users; the server runs that block as shipped.
  expect(authorizationOf(shippedConf("global"))).toBe(authorizationOf(shippedConf("us1")));
  expect(authorizationOf(shippedConf("global"))).toBe(authorizationOf(shippedConf("ie1")));
  expect(SHIPPED_REGIONS).toEqual(REGIONS);
  server = await startShippedNatsServer();
  for (const user of natsUsers(REGIONS)) conns.set(user, await server.connectAs(user));
  app = await startTwilioApp(token, { "/voice": () => ({ body: "<Response><Say>hi</Say></Response>" }) });
  const global = await openGlobalStores(as("admin"));
  await addAccount(global, { sid: accountSid, token });
  workers.push(await RegionWorker.start({ nc: as("region-us1"), region: "us1", log }));
  workers.push(await RegionWorker.start({ nc: as("region-ie1"), region: "ie1", log }));
  await addNumber(as("admin"), global, {
    number: US1_NUMBER,
    region: "us1",
    voiceUrl: `${app.url}/voice`,
    accountSid,
  });
  await addNumber(as("admin"), global, {
    number: IE1_NUMBER,
    region: "ie1",
    voiceUrl: `${app.url}/voice`,
    accountSid,
  });
  edge = await Edge.start({ nc: as("edge"), edge: "dublin", log });
  // Outbound calls ring the simulated network in simulated time (no real-time ringing to wait out).
  api = await startApi({ nc: as("api"), port: 0, log, outbound: { script: { timeScale: 0 } } });
  // A port free on UDP and TCP, tried again when another process takes it first (harness.ts).
  const started = await startGateway({ nc: as("sip") }, "gw1", { edge: "dublin" });
  gateway = started;
  sipPort = started.sipPort;
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await api?.close();
  await edge?.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([...conns.values()].map((c) => c.close()));
  await app?.close();
  await server?.stop();
}, 30_000);

describe("the shipped NATS users (deploy/nats)", () => {
  it("let each role do its work: an edge offers, a region runs the call, the api serves it, a gateway offers", async () => {
    await new Promise<void>((resolve) => {
      const check = () => edge.regionFor(US1_NUMBER) === "us1" && resolve();
      edge.routing.onChange = check;
      check();
    });
    edge.routing.onChange = undefined;
    const placed = await placeCall(as("admin"), {
      to: US1_NUMBER,
      from: "+15557654321",
      edge: "dublin",
      caller: { timeScale: 0 },
      timeoutMs: 15_000,
    }).catch((err) => {
      throw new Error(`${(err as Error).message}; refused: ${violations().join("\n") || "nothing"}`);
    });
    expect(placed.call).toMatchObject({ status: "completed", to: US1_NUMBER });

    const auth = `Basic ${Buffer.from(`${accountSid}:${token}`).toString("base64")}`;
    const res = await fetch(`${api.url}/2010-04-01/Accounts/${accountSid}/Calls/${placed.callSid}.json`, {
      headers: { authorization: auth },
    });
    expect(res.status).toBe(200);

    // A SIP call through the gateway (its own user) to the same number: offered to the edge, run by
    // the region, which sends the gateway its channel commands; the prompt reaches the phone.
    await using phone = await phoneRtp();
    const result = await sipp(sipPort, "short.xml", {
      to: US1_NUMBER,
      keys: { rtpport: phone.port },
      timeoutS: 15,
    });
    expect(result.code, `${result.stdout}${result.stderr}; refused: ${violations().join("\n")}`).toBe(0);
    expect(phone.packets.length).toBeGreaterThan(0);

    // An outbound call (REST POST Calls.json): the api stores it on us1's outbound subject, and
    // us1's worker rings the callee and runs the number's app with Direction=outbound-api.
    const created = await fetch(`${api.url}/2010-04-01/Accounts/${accountSid}/Calls.json`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ To: "+15559990123", From: US1_NUMBER, Url: `${app.url}/voice` }),
    });
    const outbound = (await created.json()) as { sid: string };
    expect(created.status, JSON.stringify(outbound)).toBe(201);
    const ran = await app.waitFor((r) => r.params.CallSid === outbound.sid, 15_000);
    expect(ran.params.Direction).toBe("outbound-api");

    expect(violations()).toEqual([]);
    for (const user of natsUsers(REGIONS)) expect(as(user).isClosed(), user).toBe(false);
  }, 60_000);

  it.each(["edge", "sip"])(
    "refuse %s placing an outbound call (the regions' outbound subject)",
    async (user) => {
      // The subject is a JetStream stream's: allowed, the stream would answer with its ack.
      await expect(as(user).request("sb.region.us1.outbound", "{}", { timeout: 2_000 })).rejects.toThrow(
        /permissions violation/i,
      );
    },
  );

  const attackers = ["edge", "sip", "region-us1", "api"];
  const ie1Route = `$KV.sb_routing.${numberKey(IE1_NUMBER)}`;
  /** [what, subject, body]: each one a way to destroy or rewrite what the role only reads, or owns. */
  const attacks: [string, string, unknown][] = [
    ["delete an account", "$JS.API.STREAM.MSG.DELETE.KV_sb_accounts", { seq: 1, no_erase: true }],
    ["purge ie1's route", "$JS.API.STREAM.PURGE.KV_sb_routing", { filter: ie1Route }],
    ["purge the routing table", "$JS.API.STREAM.PURGE.KV_sb_routing", {}],
    ["seal the accounts", "$JS.API.STREAM.UPDATE.KV_sb_accounts", { name: "KV_sb_accounts", sealed: true }],
    ["delete the accounts", "$JS.API.STREAM.DELETE.KV_sb_accounts", {}],
    ["purge the accounts' status", "$JS.API.STREAM.PURGE.KV_sb_account_status", {}],
    ["delete us1's calls", "$JS.API.STREAM.DELETE.KV_sb_calls_us1", {}],
    ["purge us1's call stream", "$JS.API.STREAM.PURGE.SB_CALLS_US1", {}],
    ["delete ie1's calls", "$JS.API.STREAM.DELETE.KV_sb_calls_ie1", {}],
    ["seal us1's calls", "$JS.API.STREAM.UPDATE.KV_sb_calls_us1", { name: "KV_sb_calls_us1", sealed: true }],
    ["delete one of us1's call records", "$JS.API.STREAM.MSG.DELETE.KV_sb_calls_us1", { seq: 1 }],
  ];

  it.each(attackers)("refuse %s every way to destroy or rewrite stored data", async (user) => {
    for (const [what, subject, body] of attacks) {
      await expect(
        as(user).request(subject, JSON.stringify(body), { timeout: 2_000 }),
        `${user}: ${what}`,
      ).rejects.toThrow(/permissions violation/i);
    }
  });

  it.each(["edge", "sip", "region-us1"])("refuse %s writing a route", async (user) => {
    await expect(
      as(user).request(ie1Route, JSON.stringify({ region: "us1", accountSid }), { timeout: 2_000 }),
    ).rejects.toThrow(/permissions violation/i);
  });

  it.each(attackers)("refuse %s writing an account", async (user) => {
    await expect(
      as(user).request(`$KV.sb_accounts.${newSid("AC")}`, "{}", { timeout: 2_000 }),
    ).rejects.toThrow(/permissions violation/i);
  });

  it.each(["edge", "sip"])("refuse %s every read of the accounts bucket and its tokens", async (user) => {
    for (const subject of [
      "$JS.API.STREAM.INFO.KV_sb_accounts",
      `$JS.API.DIRECT.GET.KV_sb_accounts.$KV.sb_accounts.${accountSid}`,
      "$JS.API.STREAM.MSG.GET.KV_sb_accounts",
      "$JS.API.CONSUMER.CREATE.KV_sb_accounts",
    ]) {
      await expect(as(user).request(subject, "{}", { timeout: 2_000 }), subject).rejects.toThrow(
        /permissions violation/i,
      );
    }
    const sub = as(user).subscribe("$KV.sb_accounts.>");
    expect(String(await sub.closed)).toMatch(/permissions violation/i);
  });

  it("refuses a region re-creating one of its buckets as a mirror of another region's", async () => {
    const mirror = { name: "KV_sb_calls_us1", mirror: { name: "KV_sb_calls_ie1" } };
    // It may create its own streams (at start), so the server is what refuses: the name is taken,
    // and the region may not delete the stream to free it.
    const reply = await as("region-us1").request(
      "$JS.API.STREAM.CREATE.KV_sb_calls_us1",
      JSON.stringify(mirror),
      {
        timeout: 2_000,
      },
    );
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toHaveProperty("error");
    await expect(
      as("region-us1").request(
        "$JS.API.STREAM.CREATE.KV_sb_calls_ie1",
        JSON.stringify({ name: "KV_sb_calls_ie1" }),
        {
          timeout: 2_000,
        },
      ),
    ).rejects.toThrow(/permissions violation/i);
  });

  it("leaves every attacked store as it was", async () => {
    const jsm = await jetstreamManager(as("admin"));
    const global = await openGlobalStores(as("admin"));
    expect(await global.accounts.get(accountSid)).toMatchObject({ sid: accountSid, auth_token: token });
    expect(await global.routing.get(numberKey(IE1_NUMBER))).toMatchObject({ region: "ie1" });
    expect((await jsm.streams.info("KV_sb_accounts")).config.sealed).toBeFalsy();
    expect((await jsm.streams.info("KV_sb_calls_us1")).config.mirror).toBeUndefined();
    expect((await jsm.streams.info("KV_sb_calls_ie1")).state.messages).toBeGreaterThanOrEqual(0);
    expect(await global.accountStatus.get(accountSid)).toEqual({ sid: accountSid, status: "active" });
    // And the server logged the refusals (so the empty list in the first test means something).
    expect(violations().length).toBeGreaterThan(0);
  });
});

/** Each request refused by the server as a permissions violation (never answered, never stored). */
async function expectRefused(user: string, tries: [string, string, unknown][]): Promise<void> {
  for (const [what, subject, body] of tries) {
    await expect(
      as(user).request(subject, JSON.stringify(body), { timeout: 2_000 }),
      `${user}: ${what} (${subject})`,
    ).rejects.toThrow(/permissions violation/i);
  }
}

/** Each subscription closed by the server as a permissions violation. */
async function expectSubscriptionsRefused(user: string, subjects: string[]): Promise<void> {
  for (const subject of subjects) {
    const sub = as(user).subscribe(subject);
    expect(String(await sub.closed), `${user} subscribing ${subject}`).toMatch(/permissions violation/i);
  }
}

describe("a compromised api (the shipped `api` user)", () => {
  const sid = newSid("CA");
  it("may not write what it only reads, take a region's call jobs or callbacks, or make streams", async () => {
    await expectRefused("api", [
      ["write a call record", `$KV.sb_calls_us1.${sid}`, {}],
      ["write a call's lease or snapshot", `$KV.sb_actors_us1.${sid}`, {}],
      ["write the call index", `$KV.sb_call_index_us1.${sid}`, {}],
      ["write a notification", `$KV.sb_notifications_us1.${sid}`, {}],
      ["write a trunk", "$KV.sb_trunks.carrier", { name: "carrier", host: "evil.example" }],
      ["write a recording's media", "$O.sb_recordings_us1.C.x", {}],
      ["make a durable consumer on us1's calls", "$JS.API.CONSUMER.DURABLE.CREATE.SB_CALLS_US1.thief", {}],
      ["make a consumer on us1's calls", "$JS.API.CONSUMER.CREATE.SB_CALLS_US1.thief", {}],
      ["pull us1's call jobs", "$JS.API.CONSUMER.MSG.NEXT.SB_CALLS_US1.workers", { batch: 1 }],
      ["pull us1's status callbacks", "$JS.API.CONSUMER.MSG.NEXT.SB_CALLBACKS_US1.callbacks", { batch: 1 }],
      ["ack a call job", "$JS.ACK.SB_CALLS_US1.workers.1.1.1.1.0", {}],
      ["re-create us1's calls as a mirror", "$JS.API.STREAM.CREATE.KV_sb_calls_us1", { mirror: {} }],
      ["make a stream of its own", "$JS.API.STREAM.CREATE.EVIL", { name: "EVIL", subjects: ["sb.>"] }],
      ["purge a recording", "$JS.API.STREAM.PURGE.OBJ_sb_recordings_us1", {}],
      ["seal us1's numbers", "$JS.API.STREAM.UPDATE.KV_sb_numbers_us1", { sealed: true }],
      ["delete us1's call stream", "$JS.API.STREAM.DELETE.SB_CALLS_US1", {}],
    ]);
  });

  it("may not feed a call, forge its output, offer calls, queue inbound jobs or command gateways", async () => {
    await expectRefused("api", [
      ["feed a us1 call", `sb.region.us1.call.${sid}.in`, { kind: "hangup" }],
      ["feed an ie1 call", `sb.region.ie1.call.${sid}.in`, { kind: "hangup" }],
      ["forge a call's output", `sb.region.us1.call.${sid}.out`, { kind: "ended" }],
      ["forge an outbound leg's events", `sb.region.us1.call.${sid}.leg`, {}],
      ["store an inbound call", "sb.region.us1.calls", {}],
      ["offer a call", "sb.edge.dublin.offer", { to: US1_NUMBER, from: "+15557654321" }],
      ["command a gateway", `sb.sip.gw1.call.${sid}.cmd`, {}],
      ["originate a SIP leg", "sb.sip.originate", {}],
      ["originate a SIP leg on gw1", "sb.sip.gw1.originate", {}],
      ["forge a worker's stats", "sb.region.us1.stats.w1", {}],
      ["forge an inspection event", `sb.region.us1.inspect.${sid}`, {}],
    ]);
  });

  it("may not listen to calls' traffic, offers, gateways or the accounts' writes", async () => {
    await expectSubscriptionsRefused("api", [
      "sb.region.us1.>",
      "sb.region.*.call.*.in",
      "sb.region.*.call.*.out",
      "sb.region.us1.call.*.control",
      "sb.region.us1.inspect.>",
      "sb.edge.*.offer",
      "sb.sip.>",
      "$KV.sb_accounts.>",
      ">",
    ]);
  });

  it("may ask a call's worker over .control (nobody hosts this one) and open, not replace, the accounts", async () => {
    await expect(
      as("api").request(`sb.region.us1.call.${sid}.control`, "{}", { timeout: 500 }),
    ).rejects.toThrow(/no responders|timeout/i); // not a permissions violation
    // It may create the global buckets it opens (a fresh deployment's api can be first), so the server
    // is what refuses a mirror under the name: it is taken, and the api may not delete it.
    const reply = await as("api").request(
      "$JS.API.STREAM.CREATE.KV_sb_accounts",
      JSON.stringify({ name: "KV_sb_accounts", mirror: { name: "KV_sb_calls_ie1" } }),
      { timeout: 2_000 },
    );
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toHaveProperty("error");
  });

  it("left every store it tried as it was", async () => {
    const jsm = await jetstreamManager(as("admin"));
    expect((await jsm.streams.info("KV_sb_accounts")).config.mirror).toBeUndefined();
    expect((await jsm.streams.info("KV_sb_numbers_us1")).config.sealed).toBeFalsy();
    await expect(jsm.streams.info("EVIL")).rejects.toThrow(/not found/i);
    await expect(jsm.consumers.info("SB_CALLS_US1", "thief")).rejects.toThrow(/not found/i);
    const calls = await jsm.streams.getMessage("KV_sb_calls_us1", {
      last_by_subj: `$KV.sb_calls_us1.${sid}`,
    });
    expect(calls).toBeNull();
  });
});

describe("outbound SIP legs (sb.sip.<gw>.originate, sb.sip.originate, sb.region.<r>.call.<sid>.leg)", () => {
  const sid = newSid("CA");
  it("let a region originate on one gateway or any (queue group), and a gateway answer and report the leg", async () => {
    const gw = as("sip");
    // A stand-in gateway on the gateway's user: its own originate subject, and the shared one in the
    // gateways' queue group.
    for (const [subject, opts] of [
      ["sb.sip.gw-test.originate", {}],
      ["sb.sip.originate", { queue: "gateways" }],
    ] as const) {
      gw.subscribe(subject, {
        ...opts,
        callback: (_err, msg) => {
          msg.respond(`took ${subject}`);
        },
      });
    }
    await gw.flush();
    const own = await as("region-us1").request("sb.sip.gw-test.originate", "{}", { timeout: 2_000 });
    expect(own.string()).toBe("took sb.sip.gw-test.originate");
    // The shared subject's queue group also holds this file's real gateway (beforeAll): either may
    // take it. The stand-in says "took"; the real one refuses "{}", which is not msgpack (90001).
    // Either answer shows the region may ask and the gateway's user may answer.
    const any = await as("region-ie1").request("sb.sip.originate", "{}", { timeout: 2_000 });
    const answer = any.string();
    if (!answer.startsWith("took ")) expect(readServiceError(any.data)).toBe(90001);
    // The leg's events: the gateway publishes on the call's `.leg` in any region; that region hears it.
    const legs = as("region-us1").subscribe(`sb.region.us1.call.${sid}.leg`, { max: 1 });
    await as("region-us1").flush();
    gw.publish(`sb.region.us1.call.${sid}.leg`, "ringing");
    gw.publish(`sb.region.ie1.call.${sid}.leg`, "ringing");
    for await (const m of legs) expect(m.string()).toBe("ringing");
    const ours = (l: string) => /User "(sip|region-\w+)"/.test(l) && /originate|\.leg/.test(l);
    expect(violations().filter(ours)).toEqual([]);
  });

  it("let a region ask a gateway how a leg went (leg-state on the leg's .cmd), and no one else", async () => {
    // The real gateway (on the shipped `sip` user) answers: it never placed this leg (90010).
    const reply = await as("region-ie1").request(`sb.sip.gw1.call.${sid}.cmd`, encode({ op: "leg-state" }), {
      timeout: 2_000,
    });
    expect(readServiceError(reply.data)).toBe(90010);
    for (const user of ["edge", "api"])
      await expectRefused(user, [["ask a leg's state", `sb.sip.gw1.call.${sid}.cmd`, { op: "leg-state" }]]);
    const ours = (l: string) => /User "(sip|region-\w+)"/.test(l) && /\.cmd/.test(l);
    expect(violations().filter(ours)).toEqual([]);
  });

  it("refuse originating to the edge and the api, and taking legs to a region", async () => {
    for (const user of ["edge", "api"]) {
      await expectRefused(user, [
        ["originate on any gateway", "sb.sip.originate", {}],
        ["originate on gw1", "sb.sip.gw1.originate", {}],
      ]);
    }
    await expectRefused("edge", [["forge a leg's events", `sb.region.us1.call.${sid}.leg`, {}]]);
    await expectSubscriptionsRefused("region-us1", ["sb.sip.originate", "sb.sip.gw1.originate"]);
    await expectSubscriptionsRefused("edge", ["sb.sip.originate", `sb.region.us1.call.${sid}.leg`]);
    await expectSubscriptionsRefused("region-ie1", [`sb.region.us1.call.${sid}.leg`]);
  });
});

describe("registered phones (sb_sip_registrations)", () => {
  const key = `gw1.${Buffer.from("alice@sip.example.com").toString("base64url")}`;
  it("let a gateway keep and read its registered phones, and no other role write them", async () => {
    const binding = {
      contact: "sip:alice@192.0.2.7:5062",
      source: { protocol: "UDP", address: "192.0.2.7", port: 5062 },
      expiresAt: Date.now() + 600_000,
      callId: "reg-1",
      cseq: 1,
      password: "x".repeat(22),
    };
    // The first gateway that needs the bucket makes it.
    const store = await RegistrationStore.open(as("sip"), "gw1", log);
    await store.save("alice@sip.example.com", [binding]);
    expect((await RegistrationStore.open(as("sip"), "gw1", log).then((s) => s.load())).size).toBe(1);
    for (const user of ["edge", "api", "region-us1"])
      await expectRefused(user, [
        ["bind a phone to a gateway", `$KV.sb_sip_registrations.${key}`, [binding]],
      ]);
    expect(JSON.parse((await store.kv.get(key))?.string() ?? "null")).toEqual([binding]);
  });
});

/** The Twilio code of a service error reply (protocol/service-error.ts), or undefined for another reply. */
function readServiceError(data: Uint8Array): number | undefined {
  try {
    const reply = decode(data) as { error?: { code?: number } };
    return reply?.error?.code;
  } catch {
    return undefined;
  }
}
