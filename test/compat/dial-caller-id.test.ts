// <Dial callerId> as Twilio checks it (issue #19, item 4): a number is shown to the parties rung only
// if it is the call's From or To, one of the account's numbers, or a verified caller ID; any other is
// warning 13214 and nobody is rung (DialCallStatus=failed). Verified caller IDs are added, listed and
// removed with the official `twilio` client (OutgoingCallerIds; creating one is Twilio's
// ValidationRequest, which switchboard grants at once) and with `switchboard caller-ids`.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { runCli } from "../helpers/cli.js";
import { type DialFixture, HOSTED, NUMBER, OUTSIDE, startDialFixture } from "./dial-fixture.js";

const STRANGER = "+15550009999";
let f: DialFixture;
let api: Api;
let client: ReturnType<typeof twilioClient>["client"];

beforeAll(async () => {
  // Every role on its shipped NATS user: the api's caller-ID writes and the worker's reads included.
  f = await startDialFixture({ shippedUsers: true });
  api = await startApi({ nc: await f.engine.connectAs("api"), port: 0, log: pino({ level: "silent" }) });
  ({ client } = twilioClient(api.url, { sid: f.engine.accountSid, token: f.engine.authToken }));
}, 60_000);
afterAll(async () => {
  await api?.close();
  await f?.[Symbol.asyncDispose]();
});

const answering = { callees: { [OUTSIDE]: { outcome: "answer" as const, answerAfter: 1, talk: 2 } } };
const dialFrom = (callerId: string) =>
  f.dialCall((r) => r.dial({ action: "/after", callerId }, OUTSIDE), answering);

describe("<Dial callerId>", () => {
  it("rings nobody, with 13214, for a number that is not the account's nor verified", async () => {
    const { callSid, action, out } = await dialFrom(STRANGER);
    expect(action?.params).toMatchObject({ DialCallStatus: "failed", DialBridged: "false" });
    expect(action?.params.DialCallSid).toBeUndefined();
    expect(out.filter((e) => e.kind === "dial")).toEqual([]);
    const notes = await f.engine.notifications(callSid);
    expect(notes.map((n) => n.error_code)).toContain("13214");
  });

  it("rings no <Number> with a name as its caller ID (13214), but shows one to a <Client>", async () => {
    const named = await dialFrom("alice");
    expect(named.action?.params).toMatchObject({ DialCallStatus: "failed", DialBridged: "false" });
    expect((await f.engine.notifications(named.callSid)).map((n) => n.error_code)).toContain("13214");
    const client = await f.dialCall((r) => r.dial({ action: "/after", callerId: "alice" }).client("bob"), {
      callees: { "client:bob": { outcome: "answer", answerAfter: 1, talk: 2 } },
    });
    expect(client.action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    expect(await f.record(client.action?.params.DialCallSid ?? "")).toMatchObject({ from: "alice" });
  });

  it("shows the call's own number, and a number of the account, to the party rung", async () => {
    for (const callerId of [NUMBER, HOSTED]) {
      const { action } = await dialFrom(callerId);
      expect(action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
      expect(await f.record(action?.params.DialCallSid ?? "")).toMatchObject({ from: callerId, to: OUTSIDE });
    }
  });

  it("shows a caller ID verified through OutgoingCallerIds, and no longer once it is removed", async () => {
    const requested = await client.validationRequests.create({
      phoneNumber: STRANGER,
      friendlyName: "front desk",
    });
    expect(requested).toMatchObject({
      accountSid: f.engine.accountSid,
      phoneNumber: STRANGER,
      friendlyName: "front desk",
    });
    const listed = await client.outgoingCallerIds.list({ phoneNumber: STRANGER });
    expect(listed.map((c) => c.phoneNumber)).toEqual([STRANGER]);
    const sid = listed[0]?.sid ?? "";
    expect(sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(await client.outgoingCallerIds(sid).fetch()).toMatchObject({
      sid,
      friendlyName: "front desk",
      uri: `/2010-04-01/Accounts/${f.engine.accountSid}/OutgoingCallerIds/${sid}.json`,
    });
    expect((await client.outgoingCallerIds(sid).update({ friendlyName: "desk" })).friendlyName).toBe("desk");

    const verified = await dialFrom(STRANGER);
    expect(verified.action?.params).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    expect(await f.record(verified.action?.params.DialCallSid ?? "")).toMatchObject({ from: STRANGER });

    expect(await client.outgoingCallerIds(sid).remove()).toBe(true);
    expect(await client.outgoingCallerIds.list()).toEqual([]);
    await expect(client.outgoingCallerIds(sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    expect((await dialFrom(STRANGER)).action?.params.DialCallStatus).toBe("failed");
  });

  it("adds, lists and removes verified caller IDs from the command line", async () => {
    const nats = ["--nats", f.engine.adminUrl, "--account", f.engine.accountSid];
    const added = await runCli(["caller-ids", "add", "+15550008888", "--friendly-name", "cli", ...nats]);
    expect(added.stderr).toBe("");
    expect(added.stdout).toMatch(/^caller ID \+15550008888 \(PN[0-9a-f]{32}\) verified/);
    expect((await runCli(["caller-ids", "list", ...nats])).stdout).toMatch(
      /^\+15550008888 {2}PN[0-9a-f]{32} {2}cli$/m,
    );
    expect((await dialFrom("+15550008888")).action?.params.DialCallStatus).toBe("completed");
    const removed = await runCli(["caller-ids", "remove", "+15550008888", ...nats]);
    expect(removed.stdout).toMatch(/removed/);
    const bad = await runCli(["caller-ids", "add", "555-0100", ...nats]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/21421/);
  });
});
