// Issue #16, items 6 and 8: the NATS users of the SHIPPED deploy/nats configs hold only what their
// role uses. One real nats-server runs the configs' own `authorization` block (passwords from the
// environment, as in production); a region, an edge, the api and a SIP gateway (a real SIP call) do their normal work
// with their own users, and then each role tries what an intruder holding its password would: delete
// an account, purge another region's route and write its own, seal the accounts, delete a bucket to
// re-create it as a mirror of ie1's, read the tokens. All refused; the data is untouched.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { type Api, startApi } from "../../src/api/server.js";
import { placeCall } from "../../src/caller/place-call.js";
import { type NatsServer, startNatsServer } from "../../src/dev/nats-server.js";
import { Edge } from "../../src/edge/edge.js";
import { numberKey } from "../../src/model/phone.js";
import { newSid } from "../../src/model/sid.js";
import { RegionWorker } from "../../src/region/worker.js";
import { SipGateway } from "../../src/sip/gateway.js";
import { openGlobalStores } from "../../src/store/global.js";
import { natsUsers } from "../helpers/supercluster.js";
import { startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";
import { freeUdpPort, phoneRtp, sipp } from "../sip/harness.js";

const log = pino({ level: "silent" });
const REGIONS = ["us1", "ie1"];
const conf = (cluster: string) =>
  readFileSync(fileURLToPath(new URL(`../../deploy/nats/${cluster}.conf`, import.meta.url)), "utf8");
const authorization = (text: string) => text.slice(text.indexOf("authorization {"));
/** The environment variable the shipped configs read a user's password from (deploy.test.ts). */
const passwordVar = (user: string) => `SB_${user.replace(/^region-/, "").toUpperCase()}_PASSWORD`;
const password = (user: string) => `${user}-${randomBytes(6).toString("hex")}`;
const passwords = Object.fromEntries(natsUsers(REGIONS).map((u) => [u, password(u)]));

const token = randomBytes(16).toString("hex");
const accountSid = newSid("AC");
const US1_NUMBER = "+15551250001";
const IE1_NUMBER = "+353155500077";

let server: NatsServer;
const conns = new Map<string, NatsConnection>();
let app: TwilioApp;
let api: Api;
let edge: Edge;
let gateway: SipGateway;
let sipPort: number;
const workers: RegionWorker[] = [];

const as = (user: string) => conns.get(user) as NatsConnection;
const violations = () =>
  server
    .output()
    .split("\n")
    .filter((l) => /violation/i.test(l));

beforeAll(async () => {
  // The three clusters' files carry the same users; the server runs that block as shipped.
  expect(authorization(conf("global"))).toBe(authorization(conf("us1")));
  expect(authorization(conf("global"))).toBe(authorization(conf("ie1")));
  for (const [user, pass] of Object.entries(passwords)) process.env[passwordVar(user)] = pass;
  server = await startNatsServer({ port: -1, extraConfig: authorization(conf("global")) });
  for (const user of natsUsers(REGIONS)) {
    conns.set(user, await connect({ servers: server.url, user, pass: passwords[user] }));
  }
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
  sipPort = await freeUdpPort("127.0.0.1");
  gateway = await SipGateway.start({
    nc: as("sip"),
    edge: "dublin",
    id: "gw1",
    address: "127.0.0.1",
    port: sipPort,
    rtpPorts: [32000, 32099],
    log,
  });
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
