// Issue #17's acceptance call: `client.calls.create()` from the official `twilio` package places an
// outbound call through the account's trunk, via a real SIP gateway, to a SIP peer (sipp) that
// answers — and the peer hears the TwiML's <Say>: what reaches its RTP socket is the same speech as
// espeak-ng renders the text (after G.711), not silence. Busy and no-answer end as Twilio's statuses.
import type { CallInstance, CallListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/call.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addTrunk } from "../../src/admin/trunks.js";
import type { SipGateway } from "../../src/sip/gateway.js";
import { Prompts } from "../../src/sip/tts/prompts.js";
import { openTrunkStores } from "../../src/store/global.js";
import { type Stack, startStack } from "../api/helpers/stack.js";
import { statusCallbacks } from "../api/helpers/status-callbacks.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { runCli } from "../helpers/cli.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { bestAlignment, decodeUlaw, rms } from "./audio.js";
import { phoneRtp, startGateway } from "./harness.js";
import { sippUas, type Uas, type UasOptions } from "./uas.js";

const CALLEE_IP = "127.0.0.3";

const FROM = "+15551252001";
const TO = "+15559872001";
const TEXT = "Your appointment is tomorrow at nine in the morning.";

let stack: Stack;
let gateway: SipGateway | undefined;
let client: ReturnType<typeof twilioClient>["client"];

beforeAll(async () => {
  stack = await startStack({
    routes: {
      "/say": () => {
        const r = new VoiceResponse();
        r.say({ voice: "woman", language: "en-US" }, TEXT);
        return { body: r.toString() };
      },
      "/status": () => ({ status: 204, body: "" }),
    },
  });
  ({ client } = twilioClient(stack.api.url, stack.account));
  // The harness's start retries a port free on UDP but taken on TCP (seen in CI).
  gateway = await startGateway(stack, "gw-out");
  await stack.number(FROM);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await stack?.[Symbol.asyncDispose]();
});

/** Points the account's trunk at this test's callee (a sipp UAS on `port`). */
async function trunkTo(port: number): Promise<void> {
  const trunks = await openTrunkStores(stack.nc);
  await addTrunk(trunks, { name: "carrier", host: `${CALLEE_IP}:${port}`, replace: true });
  await updateAccount({ ...stack.global, ...trunks }, stack.account.sid, { trunk: "carrier" });
}

const callbacksOf = (callSid: string) => statusCallbacks(stack.app, callSid, 30_000);

const ALL_EVENTS = ["initiated", "ringing", "answered", "completed"];

/**
 * Starts sipp running `scenario` behind the account's trunk, then places a call to it over REST with
 * the /say TwiML and /status callbacks; `placedAt` is when the request went out.
 */
async function callPeer(
  scenario: string,
  params: Partial<CallListInstanceCreateOptions> = {},
  uasOptions: UasOptions = {},
): Promise<{ uas: Uas; created: CallInstance; placedAt: number }> {
  const uas = await sippUas(scenario, uasOptions);
  await trunkTo(uas.port);
  const placedAt = Date.now();
  const created = await client.calls.create({
    to: TO,
    from: FROM,
    url: `${stack.app.url}/say`,
    statusCallback: `${stack.app.url}/status`,
    ...params,
  });
  return { uas, created, placedAt };
}

describe("client.calls.create() through a trunk to a SIP peer", () => {
  it("rings the peer through the trunk, and the peer hears the TwiML's Say", async () => {
    await using phone = await phoneRtp(CALLEE_IP);
    const { uas, created } = await callPeer(
      "uas-answer.xml",
      { sendDigits: "1#", statusCallbackEvent: ALL_EVENTS },
      { keys: { rtpport: phone.port } },
    );
    expect(created).toMatchObject({ status: "queued", direction: "outbound-api" });
    // sipp exits 0 only if the INVITE's Request-URI and From were as checked and the BYE came.
    const result = await uas.result;
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const doc = await stack.app.waitFor((r) => r.path === "/say" && r.params.CallSid === created.sid);
    expect(doc.params).toMatchObject({
      Direction: "outbound-api",
      CallStatus: "in-progress",
      To: TO,
      From: FROM,
    });
    const callbacks = await callbacksOf(created.sid);
    expect(callbacks.map((r) => [r.params.SequenceNumber, r.params.CallStatus])).toEqual([
      ["0", "initiated"],
      ["1", "ringing"],
      ["2", "in-progress"],
      ["3", "completed"],
    ]);
    for (const cb of callbacks) {
      expect(cb.signatureValid).toBe(true);
      expect(cb.params).toMatchObject({
        Direction: "outbound-api",
        CallbackSource: "call-progress-events",
        AccountSid: stack.account.sid,
      });
    }
    expect(Number(callbacks.at(-1)?.params.CallDuration)).toBeGreaterThanOrEqual(2);

    // SendDigits: RFC 4733 events 1 and # (11) reached the callee before the speech.
    const events = phone.packets.filter((p) => p.payloadType === 101).map((p) => p.payload[0]);
    expect([...new Set(events)]).toEqual([1, 11]);

    // The Say, by content: decoded μ-law against espeak-ng's rendering of the same text.
    const heard = decodeUlaw(phone.packets.filter((p) => p.payloadType === 0).map((p) => p.payload));
    const spoken = await new Prompts().say(TEXT, "woman", "en-US");
    const { correlation, at } = bestAlignment(heard, spoken);
    expect(correlation).toBeGreaterThan(0.95);
    const during = rms(heard.subarray(at, at + spoken.length));
    expect(during).toBeGreaterThan(30 * Math.max(rms(heard.subarray(0, Math.min(at, 1600))), 10));
  }, 60_000);

  it("ends busy when the peer answers 486", async () => {
    const { uas, created } = await callPeer("uas-busy.xml");
    expect((await uas.result).code).toBe(0);
    const [final] = await callbacksOf(created.sid);
    expect(final?.params).toMatchObject({ CallStatus: "busy", Direction: "outbound-api", CallDuration: "0" });
    expect((await client.calls(created.sid).fetch()).status).toBe("busy");
  }, 60_000);

  it("numbers the busy callback right after initiated when the peer answers 486 without ringing", async () => {
    const { uas, created } = await callPeer("uas-busy-now.xml", { statusCallbackEvent: ALL_EVENTS });
    expect((await uas.result).code).toBe(0);
    // Both are queued within milliseconds and sent at once: either may arrive first.
    await stack.app.waitFor(
      () =>
        stack.app.requests.filter((r) => r.path === "/status" && r.params.CallSid === created.sid).length >=
        2,
    );
    const callbacks = await callbacksOf(created.sid);
    expect(
      callbacks.map((r) => [r.params.SequenceNumber, r.params.CallStatus, r.params.SipResponseCode]),
    ).toEqual([
      ["0", "initiated", undefined],
      ["1", "busy", "486"],
    ]);
  }, 60_000);

  it("numbers the callbacks 0, 1, 2 when the peer answers without ringing: no ringing callback is counted", async () => {
    await using phone = await phoneRtp(CALLEE_IP);
    const { uas, created } = await callPeer(
      "uas-answer-now.xml",
      { statusCallbackEvent: ALL_EVENTS },
      { keys: { rtpport: phone.port } },
    );
    const result = await uas.result;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const callbacks = await callbacksOf(created.sid);
    expect(callbacks.map((r) => [r.params.SequenceNumber, r.params.CallStatus])).toEqual([
      ["0", "initiated"],
      ["1", "in-progress"],
      ["2", "completed"],
    ]);
  }, 60_000);

  it.each([
    ["uas-ring-404.xml", "404"],
    ["uas-ring-603.xml", "603"],
  ])(
    "numbers the failed callback after the ringing one when the peer rings, then fails (%s): SipResponseCode %s",
    async (scenario, code) => {
      const { uas, created } = await callPeer(scenario, { statusCallbackEvent: ALL_EVENTS });
      expect((await uas.result).code).toBe(0);
      const callbacks = await callbacksOf(created.sid);
      expect(
        callbacks.map((r) => [r.params.SequenceNumber, r.params.CallStatus, r.params.SipResponseCode]),
      ).toEqual([
        ["0", "initiated", undefined],
        ["1", "ringing", undefined],
        ["2", "failed", code],
      ]);
    },
    60_000,
  );

  it("cancels at Timeout and ends no-answer when the peer only rings", async () => {
    const { uas, created, placedAt } = await callPeer("uas-no-answer.xml", {
      timeout: 2,
      statusCallbackEvent: ALL_EVENTS,
    });
    // sipp exits 0 only once the CANCEL came and its 487 was acknowledged.
    expect((await uas.result).code).toBe(0);
    const callbacks = await callbacksOf(created.sid);
    expect(callbacks.map((r) => r.params.CallStatus)).toEqual(["initiated", "ringing", "no-answer"]);
    expect(Date.now() - placedAt).toBeGreaterThanOrEqual(2_000);
    expect(stack.app.requests.some((r) => r.path === "/say" && r.params.CallSid === created.sid)).toBe(false);
  }, 60_000);

  it("cancels the ringing leg (CANCEL) when the call is canceled over REST", async () => {
    const { uas, created } = await callPeer("uas-no-answer.xml", {
      timeout: 30,
      statusCallbackEvent: ALL_EVENTS,
    });
    await stack.app.waitFor(
      (r) => r.path === "/status" && r.params.CallSid === created.sid && r.params.CallStatus === "ringing",
      10_000,
    );
    const started = Date.now();
    await client.calls(created.sid).update({ status: "canceled" });
    // sipp exits 0 only once the CANCEL came (long before the 30 s Timeout) and its 487 was acknowledged.
    expect((await uas.result).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const callbacks = await callbacksOf(created.sid);
    expect(callbacks.at(-1)?.params.CallStatus).toBe("canceled");
  }, 60_000);

  it("places the same call from the terminal (`switchboard calls create`)", async () => {
    const uas = await sippUas("uas-busy.xml");
    await trunkTo(uas.port);
    const out = await runCli([
      "calls",
      "create",
      "--to",
      TO,
      "--from",
      FROM,
      "--twiml",
      "<Response><Say>Never heard</Say></Response>",
      "--status-callback",
      `${stack.app.url}/status`,
      "--api",
      stack.api.url,
      "--account",
      stack.account.sid,
      "--token",
      stack.account.token,
      "--json",
    ]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const call = JSON.parse(out.stdout) as { sid: string };
    // The peer behind the trunk saw the INVITE and answered it busy.
    expect((await uas.result).code).toBe(0);
    const [final] = await callbacksOf(call.sid);
    expect(final?.params).toMatchObject({ CallStatus: "busy", Direction: "outbound-api" });
  }, 60_000);

  it("refuses a From the account does not own with 21210", async () => {
    await expect(
      client.calls.create({ to: TO, from: "+15551252999", url: `${stack.app.url}/say` }),
    ).rejects.toMatchObject({ code: 21210, status: 400 });
  });
});
