// Issue #17, outbound calls in the region: an accepted outbound call is as durable as an inbound one
// (a worker SIGKILLed mid-call has it resumed by another, from its snapshot), and only the region's
// `outbound` subject carries outbound calls: a job on the wrong subject ends failed (90002), unrun.
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import type { CallJob } from "../../src/protocol/call-job.js";
import { encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import type { CliProcess } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { snapshotWhere } from "../helpers/snapshots.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const FROM = "+15558100001";
const PSTN = "+15559810001";
/** A number switchboard hosts: an outbound call to it rings that number's own call. */
const HOSTED = "+15558100002";
/** A hosted number whose app answers a call's first request only when it is made again. */
const HOSTED_SLOW = "+15558100003";
/** A hosted number of another region (ie1, with a worker of its own), whose app answers after 3 s. */
const HOSTED_ELSEWHERE = "+15558100004";

let engine: TestEngine;
let app: TwilioApp;
let api: Api;
const worker = (extra: string[] = []): CliProcess => regionWorker(engine.nats.url, extra);

beforeAll(async () => {
  engine = await startTestEngine({ worker: false });
  app = await startTwilioApp(engine.authToken, {
    "/pause": () => {
      const r = new VoiceResponse();
      r.say("Hold");
      r.pause({ length: 3 });
      r.redirect("/back");
      return { body: r.toString() };
    },
    "/back": () => ({ body: new VoiceResponse().say("Back").toString() }),
    "/long": () => ({ body: new VoiceResponse().pause({ length: 40 }).toString() }),
    "/hosted": () => {
      const r = new VoiceResponse();
      r.say("Hosted");
      r.pause({ length: 6 });
      return { body: r.toString() };
    },
    // The first request of each call hangs (the call rings on while its worker dies); the same
    // request made again by the worker that resumed that call is answered.
    "/hosted-slow": (req) =>
      app.requests.filter((r) => r.path === "/hosted-slow" && r.params.CallSid === req.params.CallSid)
        .length > 1
        ? { body: new VoiceResponse().say("Hosted").toString() }
        : new Promise(() => {}),
    "/hosted-late": () =>
      new Promise((resolve) =>
        setTimeout(() => resolve({ body: new VoiceResponse().say("Hosted").toString() }), 3_000),
      ),
    "/status": () => ({ status: 204, body: "" }),
  });
  await engine.addNumber({ number: FROM, voiceUrl: `${app.url}/pause` });
  await engine.addNumber({ number: HOSTED, voiceUrl: `${app.url}/hosted` });
  await engine.addNumber({ number: HOSTED_SLOW, voiceUrl: `${app.url}/hosted-slow` });
  await engine.addNumber({ number: HOSTED_ELSEWHERE, voiceUrl: `${app.url}/hosted-late`, region: "ie1" });
  // Real time, so the worker can be killed mid-call; the callee answers at once.
  api = await startApi({
    nc: engine.nc,
    port: 0,
    log: pino({ level: "silent" }),
    outbound: { script: { timeScale: 1, callees: { [PSTN]: { outcome: "answer", answerAfter: 0 } } } },
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

async function createCall(form: Record<string, string>): Promise<string> {
  const auth = Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64");
  const res = await fetch(`${api.url}/2010-04-01/Accounts/${engine.accountSid}/Calls.json`, {
    method: "POST",
    headers: { authorization: `Basic ${auth}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as { sid: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.sid;
}

/** The call's stored record, once it is stored. */
async function record(callSid: string): Promise<CallResource> {
  const kv = await new Kvm(engine.nc).open("sb_calls_us1");
  const watch = await kv.watch({ key: callSid });
  try {
    for await (const e of watch) {
      const r = e.operation === "PUT" ? e.json<CallResource>() : undefined;
      if (r && ["completed", "failed", "busy", "no-answer", "canceled"].includes(r.status)) return r;
    }
  } finally {
    watch.stop();
  }
  throw new Error("watch ended");
}

/**
 * Places an outbound call to the hosted number `to` (its own TwiML `/back`) and resolves once the
 * number's call it rings has made its first request (to `path`); `offered()` is every call of the
 * number that requested `path` since.
 */
async function ringingHosted(to: string, path: string, timeoutS: number) {
  const before = app.requests.length;
  const callSid = await createCall({ To: to, From: FROM, Url: `${app.url}/back`, Timeout: String(timeoutS) });
  const stored = await snapshotWhere(engine.nc, callSid, (s) => s.sb.hostedCallee !== undefined);
  const hostedSid = stored.sb.hostedCallee?.callSid ?? "";
  await app.waitFor((r) => r.path === path && r.params.CallSid === hostedSid, 15_000);
  const offered = () => [
    ...new Set(
      app.requests
        .slice(before)
        .filter((r) => r.path === path)
        .map((r) => r.params.CallSid),
    ),
  ];
  return { callSid, hostedSid, offered };
}

/** The call was answered after its resume: its own TwiML ran, and it ended completed. */
async function answeredAfterResume(callSid: string): Promise<void> {
  await app.waitFor((r) => r.path === "/back" && r.params.CallSid === callSid, 20_000);
  expect(await record(callSid)).toMatchObject({ status: "completed", direction: "outbound-api" });
}

async function snapshotStored(callSid: string): Promise<void> {
  const kv = await new Kvm(engine.nc).open("sb_actors_us1");
  const watch = await kv.watch({ key: callSid });
  for await (const e of watch) if (e.operation === "PUT") break;
  watch.stop();
}

describe("outbound calls in the region", () => {
  it("resume on another worker when theirs dies mid-call, and end completed with its callback", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const callSid = await createCall({
      To: PSTN,
      From: FROM,
      Url: `${app.url}/pause`,
      StatusCallback: `${app.url}/status`,
    });
    await app.waitFor((r) => r.path === "/pause" && r.params.CallSid === callSid, 15_000);
    await snapshotStored(callSid);
    await using b = worker();
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    await a.exited;
    const back = await app.waitFor((r) => r.path === "/back" && r.params.CallSid === callSid, 20_000);
    expect(back.params).toMatchObject({ Direction: "outbound-api", CallStatus: "in-progress" });
    expect(await record(callSid)).toMatchObject({ status: "completed", direction: "outbound-api" });
    const done = await app.waitFor((r) => r.path === "/status" && r.params.CallSid === callSid, 15_000);
    expect(done.params).toMatchObject({ CallStatus: "completed", SequenceNumber: "0" });
  }, 60_000);

  it("resumed while bridged to a hosted number's call, still ends when that call ends", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const callSid = await createCall({ To: HOSTED, From: FROM, Url: `${app.url}/long` });
    await app.waitFor((r) => r.path === "/long" && r.params.CallSid === callSid, 15_000);
    // Both calls resume from their snapshots: the hosted one in its Pause, this one naming it.
    const stored = await snapshotWhere(engine.nc, callSid, (s) => s.sb.hostedCallee !== undefined);
    const hostedSid = stored.sb.hostedCallee?.callSid ?? "";
    await snapshotStored(hostedSid);
    await using b = worker();
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    await a.exited;
    const hosted = await record(hostedSid);
    const call = await record(callSid);
    expect(call).toMatchObject({ status: "completed", direction: "outbound-api" });
    expect(hosted).toMatchObject({ status: "completed", direction: "inbound" });
    // Ended with its callee's call (a few seconds after the resume), not by its 40 s Pause or at the
    // 30 s a callee that never hangs up talks.
    expect(Math.abs(Date.parse(call.end_time ?? "") - Date.parse(hosted.end_time ?? ""))).toBeLessThan(3_000);
    expect(Number(call.duration)).toBeLessThan(20);
  }, 60_000);

  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands it over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "resumed while ringing a hosted number's call, when its worker %s, takes that call back: no second call offered",
    async (_, signal) => {
      // No drain: a graceful stop hands the call over at once.
      const drainless = () => worker(["--drain", "0"]);
      await using a = drainless();
      await a.waitForLog("ready");
      // A short Timeout: a call that hung its callee up and rang the number again gives up quickly.
      const { callSid, hostedSid, offered } = await ringingHosted(HOSTED_SLOW, "/hosted-slow", 8);
      await using b = drainless();
      await b.waitForLog("ready");
      a.child.kill(signal);
      await a.exited;
      // Answered once the number's call was resumed too (its request made again), and the number
      // was offered no other call.
      await answeredAfterResume(callSid);
      expect(offered()).toEqual([hostedSid]);
    },
    60_000,
  );

  it("handed over while ringing a hosted number's call on another worker, leaves that call ringing for the worker it moves to", async () => {
    // The number's call runs in ie1, on a worker that stays: the stopping us1 worker's hang-up would
    // reach it.
    await using elsewhere = regionWorker(engine.nats.url, [], "ie1");
    await elsewhere.waitForLog("ready");
    await using a = worker(["--drain", "0"]);
    await a.waitForLog("ready");
    const { callSid, hostedSid, offered } = await ringingHosted(HOSTED_ELSEWHERE, "/hosted-late", 15);
    await using b = worker(["--drain", "0"]);
    await b.waitForLog("ready");
    a.child.kill("SIGTERM");
    await a.exited;
    // The number's app answered after the hand-over: the call was answered and ran its TwiML.
    await answeredAfterResume(callSid);
    expect(offered()).toEqual([hostedSid]);
  }, 60_000);

  it("refuses an outbound job on the calls subject and an inbound one on the outbound subject", async () => {
    await using w = worker();
    await w.waitForLog("ready");
    const js = jetstream(engine.nc);
    const job = (outbound: boolean): CallJob => ({
      callSid: newSid("CA"),
      to: PSTN,
      from: FROM,
      accountSid: engine.accountSid,
      edge: "ashburn",
      region: "us1",
      offeredAt: Date.now(),
      ...(outbound && {
        outbound: { url: `${app.url}/pause`, method: "POST", fallbackMethod: "POST", timeoutS: 60 },
      }),
    });
    const smuggled = job(true);
    const misfiled = job(false);
    await js.publish(subjects().regionCalls("us1"), encode(smuggled), { msgID: smuggled.callSid });
    await js.publish(subjects().regionOutbound("us1"), encode(misfiled), { msgID: misfiled.callSid });
    for (const j of [smuggled, misfiled]) {
      expect(await record(j.callSid)).toMatchObject({ status: "failed", error_code: 90002 });
    }
    expect(app.requests.some((r) => r.params.CallSid === smuggled.callSid)).toBe(false);
  }, 30_000);
});
