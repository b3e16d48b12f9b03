// The trunks over REST: `/v1/Trunks.json` and `/v1/Trunks/{Name}.json` for the operator only, never
// with a password, and the outbound trunk a number or account names on their Twilio resources, which
// still match Twilio's schemas.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { addTrunk } from "../../src/admin/trunks.js";
import { openAdminStores } from "../../src/store/global.js";
import { type ApiStack, startApiStack } from "../security/api-stack.js";
import { twilioSchemas } from "./helpers/oai.js";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const OPERATOR_TOKEN = randomBytes(20).toString("hex");
const NUMBER = "+15551270001";
let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack({
    operatorToken: OPERATOR_TOKEN,
    setup: async (_, nc) => {
      const global = await openAdminStores(nc);
      await addTrunk(global, {
        name: "carrier",
        host: "sip.carrier.example:5080",
        transport: "tcp",
        username: "alice",
        password: PASSWORD,
        inboundCidrs: ["192.0.2.0/24"],
      });
      await addTrunk(global, { name: "backup", host: "203.0.113.5" });
      // A value someone wrote by hand that is not a trunk is left out, not a 500.
      await global.trunks.kv.put("junk", "not a trunk");
    },
  });
}, 30_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const as = (user: string, token: string) => ({ headers: { authorization: stack.basic(user, token) } });
const operator = () => as("operator", OPERATOR_TOKEN);

describe("GET /v1/Trunks.json", () => {
  it("lists every trunk for the operator, with has_password and never the password", async () => {
    const res = await stack.send("GET", "/v1/Trunks.json", operator());
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(PASSWORD);
    const body = JSON.parse(res.text) as { trunks: Record<string, unknown>[]; uri: string };
    expect(body.uri).toBe("/v1/Trunks.json");
    expect(body.trunks.map((t) => t.name)).toEqual(["backup", "carrier"]);
    expect(body.trunks[1]).toEqual({
      name: "carrier",
      host: "sip.carrier.example",
      port: 5080,
      transport: "tcp",
      username: "alice",
      has_password: true,
      from_domain: null,
      inbound_cidrs: ["192.0.2.0/24"],
      date_created: expect.any(String),
      date_updated: expect.any(String),
      uri: "/v1/Trunks/carrier.json",
    });
    expect(body.trunks[0]).toMatchObject({ name: "backup", username: null, has_password: false });
  });

  it("fetches one trunk by name, and answers 404 for a name that is none", async () => {
    const one = await stack.send("GET", "/v1/Trunks/carrier.json", operator());
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toMatchObject({ name: "carrier", has_password: true });
    expect(one.text).not.toContain(PASSWORD);
    for (const name of ["nothing", "junk", "Not%20A%20Name"]) {
      const res = await stack.send("GET", `/v1/Trunks/${name}.json`, operator());
      expect(res.status, name).toBe(404);
      expect(JSON.parse(res.text)).toMatchObject({ code: 20404, status: 404 });
    }
  });

  it("refuses accounts, a wrong operator token and no credentials with 401", async () => {
    for (const opts of [
      as(stack.account.sid, stack.account.token),
      as("operator", "wrong-operator-token-value"),
      { headers: {} },
    ]) {
      for (const path of ["/v1/Trunks.json", "/v1/Trunks/carrier.json"]) {
        const res = await stack.send("GET", path, opts);
        expect(res.status, path).toBe(401);
        expect(JSON.parse(res.text)).toMatchObject({ code: 20003, status: 401 });
        expect(res.headers["www-authenticate"]).toBe('Basic realm="switchboard operator"');
        expect(res.text).not.toContain("carrier.example");
      }
    }
  });

  it("is in /openapi.json as switchboard's own operations", async () => {
    const res = await stack.send("GET", "/openapi.json");
    const paths = (JSON.parse(res.text) as { paths: Record<string, Record<string, { operationId: string }>> })
      .paths;
    expect(paths["/v1/Trunks.json"]?.get?.operationId).toBe("ListTrunk");
    expect(paths["/v1/Trunks/{Name}.json"]?.get?.operationId).toBe("FetchTrunk");
  });
});

describe("the outbound trunk on Twilio's resources", () => {
  it("shows outbound_trunk on the Account and IncomingPhoneNumber, in Twilio's shapes, trunk_sid untouched", async () => {
    const global = await openAdminStores(stack.nc);
    const { sid, token } = stack.account;
    await updateAccount(global, sid, { trunk: "backup" });
    const { config } = await addNumber(stack.nc, global, {
      number: NUMBER,
      region: "us1",
      voiceUrl: "https://app.example.com/voice",
      accountSid: sid,
      trunk: "carrier",
    });
    const schemas = twilioSchemas();
    const auth = as(sid, token);

    // The api's watched copy of the account catches up with the update.
    const accountPath = `/2010-04-01/Accounts/${sid}.json`;
    let account: Record<string, unknown> = {};
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      const res = await stack.send("GET", accountPath, auth);
      account = JSON.parse(res.text);
      expect(schemas.check("GET", accountPath, res.status, account)).toEqual([]);
      if (account.outbound_trunk === "backup") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(account.outbound_trunk).toBe("backup");

    const numberPath = `/2010-04-01/Accounts/${sid}/IncomingPhoneNumbers/${config.sid}.json`;
    const fetched = await stack.send("GET", numberPath, auth);
    const number = JSON.parse(fetched.text);
    expect(schemas.check("GET", numberPath, fetched.status, number)).toEqual([]);
    expect(number).toMatchObject({ outbound_trunk: "carrier", trunk_sid: null });

    // A REST update of the number (Twilio's parameters) keeps the trunk an operator gave it.
    const updated = await stack.send("POST", numberPath, {
      headers: { ...auth.headers, "content-type": "application/x-www-form-urlencoded" },
      body: "FriendlyName=front+desk",
    });
    expect(updated.status).toBe(200);
    expect(JSON.parse(updated.text)).toMatchObject({
      friendly_name: "front desk",
      outbound_trunk: "carrier",
    });
  });
});
