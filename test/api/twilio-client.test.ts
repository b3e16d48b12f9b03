// The official `twilio` REST client against the api, as a Twilio developer would use it: list and
// fetch calls, read a recording, change live calls, add and list numbers, route a number. Every
// response it gets is also checked against Twilio's OpenAPI description (helpers/twilio-client.ts).
import { Objm } from "@nats-io/obj";
import { pino } from "pino";
import twilio from "twilio";
import type BaseRequestClient from "twilio/lib/base/RequestClient.js";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../../src/api/server.js";
import { newSid } from "../../src/model/sid.js";
import { buckets } from "../../src/protocol/subjects.js";
import { putRecording } from "../../src/store/recording-objects.js";
import { pausedCall } from "../helpers/live-call.js";
import { type Stack, startStack } from "./helpers/stack.js";
import { twilioClient } from "./helpers/twilio-client.js";

/** The client of docs/rest-api.md: every request to the api, with the Host Twilio's would have. */
class HostKeepingClient extends twilio.RequestClient {
  constructor(private readonly apiUrl: string) {
    super();
  }

  override request<TData>(opts: BaseRequestClient.RequestOptions<TData>) {
    const { host, pathname, search } = new URL(opts.uri);
    const headers = { ...opts.headers, Host: host };
    return super.request({ ...opts, uri: `${this.apiUrl}${pathname}${search}`, headers });
  }
}

let stack: Stack;
let client: ReturnType<typeof twilioClient>["client"];
let seen: ReturnType<typeof twilioClient>["seen"];
const NUMBER = "+15551231001";
const LONG = "+15551231002";
const ended: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  ({ client, seen } = twilioClient(stack.api.url, stack.account));
  await stack.number(NUMBER);
  await stack.number(LONG, { path: "/long" });
  for (let i = 0; i < 3; i++) ended.push((await stack.call(NUMBER)).callSid);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** A real-time call to LONG, resolved once its 10-minute <Pause> has begun (the call is answered). */
const liveCall = () => pausedCall(stack.nc, LONG);

describe("the official twilio client", () => {
  it("lists calls, following next pages, and parses their fields", async () => {
    const all = await client.calls.list({ to: NUMBER, limit: 20 });
    expect(all.map((c) => c.sid).sort()).toEqual([...ended].sort());
    const paged = await client.calls.list({ to: NUMBER, pageSize: 1, limit: 3 });
    expect(new Set(paged.map((c) => c.sid)).size).toBe(3);
    expect(seen.filter((r) => r.path.endsWith("/Calls.json")).length).toBeGreaterThanOrEqual(4);
    const call = await client.calls(ended[0] ?? "").fetch();
    expect(call).toMatchObject({
      sid: ended[0],
      accountSid: stack.account.sid,
      to: NUMBER,
      toFormatted: "(555) 123-1001",
      from: "+15557654321",
      status: "completed",
      direction: "inbound",
      apiVersion: "2010-04-01",
    });
    expect(call.startTime).toBeInstanceOf(Date);
    expect(call.endTime.getTime()).toBeGreaterThanOrEqual(call.startTime.getTime());
    expect(Number(call.duration)).toBeGreaterThanOrEqual(1);
  });

  it("reads a call's webhook requests (Events) and its notifications", async () => {
    const events = await client.calls(ended[0] ?? "").events.list();
    expect(events).toHaveLength(1);
    expect(events[0]?.request).toMatchObject({ method: "POST", url: `${stack.app.url}/voice` });
    expect(
      (events[0]?.request as { parameters?: Record<string, string> } | undefined)?.parameters,
    ).toMatchObject({
      CallSid: ended[0],
      CallStatus: "ringing",
    });
    expect(events[0]?.response).toMatchObject({ response_code: 200, content_type: "text/xml" });
    expect(await client.calls(ended[0] ?? "").notifications.list()).toEqual([]);
  });

  it("reads a recording and its media", async () => {
    const os = await new Objm(stack.nc).create(buckets.recordings("us1"));
    const wav = tinyWav();
    const sid = newSid("RE");
    await putRecording(
      os,
      { sid, accountSid: stack.account.sid, callSid: ended[1] ?? "", duration: 2, startTime: Date.now() },
      wav,
    );
    const list = await client.recordings.list();
    expect(list.map((r) => r.sid)).toEqual([sid]);
    const recording = await client.recordings(sid).fetch();
    expect(recording).toMatchObject({
      sid,
      callSid: ended[1],
      duration: "2",
      status: "completed",
      channels: 1,
    });
    expect((await client.calls(ended[1] ?? "").recordings.list()).map((r) => r.sid)).toEqual([sid]);
    expect(
      await client
        .calls(ended[1] ?? "")
        .recordings(sid)
        .fetch(),
    ).toMatchObject({ sid, track: "both" });
    expect(await client.calls(ended[0] ?? "").recordings.list()).toEqual([]);
    // Twilio's date filters on a call's recordings (DateCreated>, a day in UTC).
    const day = 86_400_000;
    const createdAfter = (ms: number) =>
      client.calls(ended[1] ?? "").recordings.list({ dateCreatedAfter: new Date(ms) });
    expect((await createdAfter(Date.now() - day)).map((r) => r.sid)).toEqual([sid]);
    expect(await createdAfter(Date.now() + day)).toEqual([]);
    const auth = Buffer.from(`${stack.account.sid}:${stack.account.token}`).toString("base64");
    // media_url itself serves the WAV, as Twilio's does, and so does its .wav form.
    for (const url of [recording.mediaUrl, `${recording.mediaUrl}.wav`]) {
      const media = await request(url, { headers: { authorization: `Basic ${auth}` } });
      expect(media.statusCode).toBe(200);
      expect(media.headers["content-type"]).toBe("audio/x-wav");
      expect(Buffer.from(await media.body.arrayBuffer()).equals(Buffer.from(wav))).toBe(true);
    }
    // Without credentials too, as Twilio serves media unless the account enforces auth on it.
    expect((await request(recording.mediaUrl)).statusCode).toBe(200);
    // Through the client docs/rest-api.md shows, which keeps Twilio's Host (api.twilio.com): the
    // media is still at the api, not on Twilio's host.
    const keepsHost = twilio(stack.account.sid, stack.account.token, {
      httpClient: new HostKeepingClient(stack.api.url),
    });
    const viaTwilioHost = await keepsHost.recordings(sid).fetch();
    expect(viaTwilioHost.mediaUrl).toBe(recording.mediaUrl);
    expect(viaTwilioHost.mediaUrl.startsWith(`${stack.api.url}/2010-04-01/`)).toBe(true);
    // Another region's (Host api.ie1.twilio.com) names its region in the path, and serves from there.
    const ie1 = await new Objm(stack.nc).create(buckets.recordings("ie1"));
    const ie1Sid = newSid("RE");
    await putRecording(
      ie1,
      {
        sid: ie1Sid,
        accountSid: stack.account.sid,
        callSid: newSid("CA"),
        duration: 1,
        startTime: Date.now(),
      },
      wav,
    );
    const inIe1 = await twilio(stack.account.sid, stack.account.token, {
      httpClient: new HostKeepingClient(stack.api.url),
      region: "ie1",
    })
      .recordings(ie1Sid)
      .fetch();
    expect(inIe1.mediaUrl).toBe(
      `${stack.api.url}/ie1/2010-04-01/Accounts/${stack.account.sid}/Recordings/${ie1Sid}`,
    );
    const ie1Media = await request(inIe1.mediaUrl);
    expect(ie1Media.statusCode).toBe(200);
    expect(Buffer.from(await ie1Media.body.arrayBuffer()).equals(Buffer.from(wav))).toBe(true);
  });

  it("starts media_url with the api's --api-url when it has one", async () => {
    const nc = await stack.nats.connectAs("api");
    const api = await startApi({
      nc,
      port: 0,
      log: pino({ level: "silent" }),
      publicUrl: "https://sb.example/",
    });
    try {
      const other = twilioClient(api.url, stack.account).client;
      const [first] = await other.recordings.list({ limit: 1 });
      expect(first?.mediaUrl).toBe(
        `https://sb.example/2010-04-01/Accounts/${stack.account.sid}/Recordings/${first?.sid}`,
      );
    } finally {
      await api.close();
      await nc.close();
    }
  });

  it("fetches and changes a live call: new TwiML, a redirect, and a hang-up", async () => {
    const twimlCall = await liveCall();
    const live = await client.calls(twimlCall.callSid).fetch();
    expect(live).toMatchObject({
      sid: twimlCall.callSid,
      status: "in-progress",
      endTime: null,
      duration: null,
    });
    const updated = await client
      .calls(twimlCall.callSid)
      .update({ twiml: "<Response><Say>Bye now</Say></Response>" });
    expect(updated.sid).toBe(twimlCall.callSid);
    await twimlCall.ended;
    expect(twimlCall.events.map((e) => e.kind)).toContain("say");
    expect((await client.calls(twimlCall.callSid).fetch()).status).toBe("completed");

    const redirected = await liveCall();
    await client.calls(redirected.callSid).update({ url: `${stack.app.url}/next`, method: "POST" });
    await redirected.ended;
    expect(
      stack.app.requests.some((r) => r.path === "/next" && r.params.CallSid === redirected.callSid),
    ).toBe(true);

    const hungUp = await liveCall();
    const done = await client.calls(hungUp.callSid).update({ status: "completed" });
    expect(done.sid).toBe(hungUp.callSid);
    await hungUp.ended;
    expect((await client.calls(hungUp.callSid).fetch()).status).toBe("completed");
  });

  it("lists live calls too (the index names calls once they end), by status, and then as ended", async () => {
    const paused = await liveCall();
    const inProgress = await client.calls.list({ status: "in-progress", to: LONG });
    expect(inProgress.map((c) => [c.sid, c.status])).toEqual([[paused.callSid, "in-progress"]]);
    const all = await client.calls.list({ limit: 100 });
    expect(all.filter((c) => c.sid === paused.callSid).map((c) => c.status)).toEqual(["in-progress"]);
    // Newest first: the live call started after every ended call of the setup.
    expect(all.findIndex((c) => c.sid === paused.callSid)).toBeLessThan(
      all.findIndex((c) => c.sid === ended[0]),
    );
    expect(await client.calls.list({ status: "completed", to: LONG })).not.toContainEqual(
      expect.objectContaining({ sid: paused.callSid }),
    );
    await client.calls(paused.callSid).update({ status: "completed" });
    await paused.ended;
    const after = await client.calls.list({ to: LONG, limit: 100 });
    expect(after.filter((c) => c.sid === paused.callSid).map((c) => c.status)).toEqual(["completed"]);
    expect(await client.calls.list({ status: "in-progress", to: LONG })).toEqual([]);
  });

  it("ends a live call at a TimeLimit set on it, counted from its answer", async () => {
    const paused = await liveCall();
    const refused = await client
      .calls(paused.callSid)
      .update({ timeLimit: 0 })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: 20422 });
    const updated = await client.calls(paused.callSid).update({ timeLimit: 2 });
    expect(updated.status).toBe("in-progress");
    // Its 10-minute Pause is cut two seconds after the answer.
    await paused.ended;
    const done = await client.calls(paused.callSid).fetch();
    expect(done.status).toBe("completed");
    expect(Number(done.duration)).toBe(2);
  });

  it("reports 21220 for a call that has ended and 20404 for one that never was", async () => {
    const late = await client
      .calls(ended[0] ?? "")
      .update({ status: "completed" })
      .catch((e: unknown) => e);
    expect(late).toMatchObject({ status: 400, code: 21220 });
    const none = await client
      .calls(newSid("CA"))
      .update({ twiml: "<Response/>" })
      .catch((e: unknown) => e);
    expect(none).toMatchObject({ status: 404, code: 20404 });
  });

  it("answers 405 with 20004 for Twilio operations switchboard does not carry out, not 404", async () => {
    const call = ended[0] ?? "";
    const removed = await client
      .calls(call)
      .remove()
      .catch((e: unknown) => e);
    expect(removed).toMatchObject({ status: 405, code: 20004 });
    expect(String((removed as Error).message)).toContain("deleting a call's record");
    const recording = await client
      .calls(call)
      .recordings.create()
      .catch((e: unknown) => e);
    expect(recording).toMatchObject({ status: 405, code: 20004 });
    const account = await client.api.v2010
      .accounts(stack.account.sid)
      .update({ friendlyName: "renamed" })
      .catch((e: unknown) => e);
    expect(account).toMatchObject({ status: 405, code: 20004 });
    // The call is still there, and a path Twilio does not have is still 404.
    expect((await client.calls(call).fetch()).sid).toBe(call);
    const unknown = await stack.rest("GET", `/2010-04-01/Accounts/${stack.account.sid}/Nothing.json`);
    expect(unknown).toMatchObject({ status: 404, body: { code: 20404 } });
  });

  it("adds, lists, changes and releases incoming numbers", async () => {
    const created = await client.incomingPhoneNumbers.create({
      phoneNumber: "+15551237777",
      voiceUrl: `${stack.app.url}/voice`,
      friendlyName: "front desk",
    });
    expect(created.sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      phoneNumber: "+15551237777",
      voiceMethod: "POST",
      friendlyName: "front desk",
    });
    const listed = await client.incomingPhoneNumbers.list({ phoneNumber: "+15551237777" });
    expect(listed.map((n) => n.sid)).toEqual([created.sid]);
    expect((await client.incomingPhoneNumbers.list()).map((n) => n.phoneNumber).sort()).toEqual(
      [NUMBER, LONG, "+15551237777"].sort(),
    );
    expect((await client.incomingPhoneNumbers(created.sid).fetch()).sid).toBe(created.sid);
    const changed = await client.incomingPhoneNumbers(created.sid).update({ voiceMethod: "GET" });
    expect(changed).toMatchObject({ voiceMethod: "GET", voiceUrl: `${stack.app.url}/voice` });
    expect(await client.incomingPhoneNumbers(created.sid).remove()).toBe(true);
    expect((await client.incomingPhoneNumbers.list()).map((n) => n.sid)).not.toContain(created.sid);
  });

  it("fetches and changes a number's routing region (Routes v2)", async () => {
    const route = await client.routes.v2.phoneNumbers(NUMBER).fetch();
    expect(route).toMatchObject({ phoneNumber: NUMBER, voiceRegion: "us1", accountSid: stack.account.sid });
    expect(route.sid).toMatch(/^QQ[0-9a-f]{32}$/);
    const moved = await client.routes.v2
      .phoneNumbers(NUMBER)
      .update({ voiceRegion: "ie1", friendlyName: "EU" });
    expect(moved).toMatchObject({ voiceRegion: "ie1", friendlyName: "EU" });
    expect((await client.routes.v2.phoneNumbers(NUMBER).fetch()).voiceRegion).toBe("ie1");
    const unrouted = await client.routes.v2
      .phoneNumbers("+15550001111")
      .fetch()
      .catch((e: unknown) => e);
    expect(unrouted).toMatchObject({ status: 404, code: 20404 });
    stack.allowRefusals(/zz9/i); // no such region: the api's user may not even look
    const bad = await client.routes.v2
      .phoneNumbers(NUMBER)
      .update({ voiceRegion: "zz9" })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 20422 });
  });

  it("fetches the account", async () => {
    const account = await client.api.v2010.accounts(stack.account.sid).fetch();
    expect(account).toMatchObject({ sid: stack.account.sid, status: "active", type: "Full" });
  });
});

/** 0.1 s of 8 kHz mono 16-bit silence, as a WAV file. */
function tinyWav(): Uint8Array {
  const samples = 800;
  const b = Buffer.alloc(44 + samples * 2);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(samples * 2, 40);
  return new Uint8Array(b);
}
