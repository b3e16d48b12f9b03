// A worker dies (SIGKILL) in the middle of calls: another worker of the region takes each over from
// its last snapshot within seconds and the call carries on, with exactly one record at the end.
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallProgress, PlacedCall } from "../../src/caller/place-call.js";
import type { CallResource } from "../../src/model/records.js";
import { encode } from "../../src/protocol/codec.js";
import type { CallerScript } from "../../src/protocol/offer.js";
import { readReply } from "../../src/protocol/service-error.js";
import { subjects } from "../../src/protocol/subjects.js";
import type { DialLegRef } from "../../src/region/host/dial-legs.js";
import type { StoredActor } from "../../src/region/host/stored-actor.js";
import type { CliProcess } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { snapshotWhere as snapshotIn } from "../helpers/snapshots.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

let engine: TestEngine;
let app: TwilioApp;
/** The worker `/early` kills as the call's first request reaches the app. */
let early: CliProcess | undefined;
// Workers are processes here, so that they can be SIGKILLed; the engine runs only the edge.
/** The call to the hosted number that talks long: the first after a test sets this to undefined. */
let longHosted: string | undefined | null = null;

// `--drain 0`: a worker stopped gracefully (SIGTERM) hands its live calls over at once.
const worker = () => regionWorker(engine.nats.url, ["--drain", "0"]);

beforeAll(async () => {
  engine = await startTestEngine({ worker: false });
  app = await startTwilioApp(engine.authToken, {
    // The app sets a session cookie before the Pause; the request after it must still carry it.
    "/pause": () => {
      const r = new VoiceResponse();
      r.say("Hold");
      r.pause({ length: 3 });
      r.redirect("/back");
      return { body: r.toString(), headers: { "Set-Cookie": "session=abc123; Path=/" } };
    },
    "/back": () => ({ body: new VoiceResponse().say("Back").toString() }),
    // The first request hangs (its worker dies waiting); the same request made again is answered.
    "/slow": (req) =>
      app.requests.filter((r) => r.path === "/slow" && r.params.CallSid === req.params.CallSid).length > 1
        ? { body: new VoiceResponse().say("Answered the second time").toString() }
        : new Promise(() => {}),
    // The worker dies as its first request arrives: milliseconds into the call, before its first
    // snapshot is due (COALESCE_MS); the same request made again is answered.
    "/early": (req) => {
      if (
        app.requests.filter((r) => r.path === "/early" && r.params.CallSid === req.params.CallSid).length > 1
      )
        return { body: new VoiceResponse().say("Started again").toString() };
      early?.child.kill("SIGKILL");
      return new Promise(() => {});
    },
    "/gather": () => {
      const r = new VoiceResponse();
      r.gather({ numDigits: 2, action: "/got" }).say(
        "Enter two digits, please, after this rather long prompt.",
      );
      return { body: r.toString() };
    },
    "/got": (req) => ({ body: new VoiceResponse().say(`Got ${req.params.Digits}`).toString() }),
    "/dial": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/dialed" }).number(
        // Not every event: the leg's SequenceNumber counts only the callbacks it sends, across a resume.
        { statusCallback: "/leg-status", statusCallbackEvent: ["ringing", "completed"] },
        "+15559990001",
      );
      return { body: r.toString() };
    },
    "/leg-status": () => ({ status: 204, body: "" }),
    "/dial-hosted": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/dialed" }).number("+15558000007");
      return { body: r.toString() };
    },
    // The number the Dial rings: the test's first call to it talks long (the worker dies meanwhile),
    // later ones not.
    "/hosted": (req) => {
      const r = new VoiceResponse();
      r.say("Hosted");
      longHosted ??= req.params.CallSid;
      if (req.params.CallSid === longHosted) r.pause({ length: 6 });
      return { body: r.toString() };
    },
    "/dialed": (req) => ({ body: new VoiceResponse().say(`Dial ${req.params.DialCallStatus}`).toString() }),
    "/record": () => {
      const r = new VoiceResponse();
      r.record({
        action: "/recorded",
        finishOnKey: "#",
        maxLength: 30,
        recordingStatusCallback: "/recording-status",
        recordingStatusCallbackEvent: ["in-progress", "completed"],
      });
      return { body: r.toString() };
    },
    "/recorded": (req) => ({
      body: new VoiceResponse()
        .say(`Recorded ${req.params.RecordingDuration} ${req.params.Digits}`)
        .toString(),
    }),
    "/recording-status": () => ({ status: 204, body: "" }),
    "/long": () => {
      const r = new VoiceResponse();
      r.say("Long");
      r.pause({ length: 20 });
      return { body: r.toString() };
    },
  });
  for (const [number, path] of [
    ["+15558000001", "/pause"],
    ["+15558000002", "/slow"],
    ["+15558000003", "/gather"],
    ["+15558000004", "/early"],
    ["+15558000005", "/dial"],
    ["+15558000006", "/dial-hosted"],
    ["+15558000007", "/hosted"],
    ["+15558000008", "/long"],
    ["+15558000009", "/record"],
  ] as const) {
    await engine.addNumber({ number, voiceUrl: `${app.url}${path}` });
  }
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** Places a real-time call; resolves `reached` at the first progress event that matches. */
function call(
  to: string,
  reach: (p: CallProgress) => boolean,
  caller: Pick<CallerScript, "digits" | "callees" | "recordings"> = {},
) {
  let reached!: () => void;
  const at = new Promise<void>((r) => {
    reached = r;
  });
  const said: string[] = [];
  const resumed: number[] = [];
  const placed = { sid: "" };
  const ended: Promise<PlacedCall> = engine.call({
    to,
    caller: { ...caller, timeScale: 1 },
    timeoutMs: 30_000,
    onProgress: (p) => {
      if (p.source === "offered") placed.sid = p.callSid;
      if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
      if (p.source === "inspect" && p.event.type === "resumed") resumed.push(Date.now());
      if (reach(p)) reached();
    },
  });
  return { at, ended, said, resumed, placed };
}

async function killAndReplace(
  a: CliProcess,
  signal: "SIGKILL" | "SIGTERM" = "SIGKILL",
): Promise<{ killedAt: number; b: CliProcess }> {
  const b = worker();
  await b.waitForLog("ready");
  a.child.kill(signal);
  const killedAt = Date.now();
  await a.exited;
  return { killedAt, b };
}

/** Resolves once the call has a stored snapshot (a call's first is stored a second in). */
async function snapshotStored(callSid: string): Promise<void> {
  const kv = await new Kvm(engine.nc).open("sb_actors_us1");
  const watch = await kv.watch({ key: callSid });
  for await (const e of watch) {
    if (e.operation === "PUT") break;
  }
  watch.stop();
}

/** The call's stored snapshot in `sb_actors_us1`, or undefined. */
async function storedSnapshot(callSid: string): Promise<unknown> {
  const kv = await new Kvm(engine.nc).open("sb_actors_us1");
  const e = await kv.get(callSid);
  return e?.operation === "PUT" ? e.json() : undefined;
}

/** The call's first stored snapshot that `ok` accepts. */
const snapshotWhere = (callSid: string, ok?: (s: StoredActor) => boolean) =>
  snapshotIn(engine.nc, callSid, ok);

/** The first <Dial> leg the call's snapshot names, once the caller is bridged to it. */
async function bridgedLeg(callSid: string): Promise<DialLegRef | undefined> {
  const stored = await snapshotWhere(callSid, (s) => s.sb.dialLegs?.[0]?.bridged === true);
  return stored.sb.dialLegs?.[0];
}

/** How many times the call's record was written (the bucket keeps one revision; the stream counts writes). */
async function recordWrites(callSid: string): Promise<number> {
  const jsm = await jetstreamManager(engine.nc);
  const info = await jsm.streams.info("KV_sb_calls_us1", { subjects_filter: `$KV.sb_calls_us1.${callSid}` });
  return info.state.subjects?.[`$KV.sb_calls_us1.${callSid}`] ?? 0;
}

describe("a worker dies mid-call", () => {
  it("resumes a call parked in a Pause: the Pause plays again, then the call goes on with its cookies", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const c = call("+15558000001", (p) => p.source === "channel" && p.event.kind === "pause");
    await c.at;
    await snapshotStored(c.placed.sid); // resumed from it, not started again from the lease
    const { killedAt, b } = await killAndReplace(a);
    await using _b = b;
    const placed = await c.ended;
    expect(placed.call.status).toBe("completed");
    expect(c.said).toEqual(["Hold", "Back"]);
    const back = app.requests.find((r) => r.path === "/back" && r.params.CallSid === placed.callSid);
    expect(back?.headers.cookie).toBe("session=abc123");
    expect(c.resumed).toHaveLength(1);
    expect((c.resumed[0] ?? 0) - killedAt).toBeLessThan(3_000);
    expect(await recordWrites(placed.callSid)).toBe(1);
  });

  it("requests an in-flight webhook again with the same I-Twilio-Idempotency-Token", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const c = call("+15558000002", () => false);
    const first = await app.waitFor((r) => r.path === "/slow");
    const { b } = await killAndReplace(a);
    await using _b = b;
    const again = await app.waitFor((r) => r.path === "/slow" && r !== first);
    expect(again.params.CallSid).toBe(first.params.CallSid);
    expect(again.headers["i-twilio-idempotency-token"]).toBe(first.headers["i-twilio-idempotency-token"]);
    const placed = await c.ended;
    expect(placed.call).toMatchObject({ status: "completed", error_code: null });
    expect(c.said).toEqual(["Answered the second time"]);
  });

  it("restarts a Gather from its prompt, and the caller's keys still reach the action", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const c = call("+15558000003", (p) => p.source === "channel" && p.event.kind === "say", {
      digits: ["42"],
    });
    await c.at;
    const { b } = await killAndReplace(a);
    await using _b = b;
    const placed = await c.ended;
    expect(c.said.at(-1)).toBe("Got 42");
    expect(c.said.filter((s) => s.startsWith("Enter two digits"))).toHaveLength(2);
    expect(placed.call.status).toBe("completed");
  });

  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "goes on with a simulated caller's <Record> when its worker %s: the same take, one recording",
    async (_, signal) => {
      await using a = worker();
      await a.waitForLog("ready");
      // The caller talks 4 s, then presses #; the worker stops a second into it.
      const c = call("+15558000009", (p) => p.source === "channel" && p.event.kind === "record", {
        recordings: [{ seconds: 4, key: "#" }],
      });
      await c.at;
      await snapshotWhere(
        c.placed.sid,
        (s) => (s.context as { verb?: string } | undefined)?.verb === "Record",
      );
      const { b } = await killAndReplace(a, signal);
      await using _b = b;
      const placed = await c.ended;
      expect(placed.call.status).toBe("completed");
      // The resumed Record went on with the caller's take: its 4 s and its #, not a silent caller.
      expect(c.said).toEqual(["Recorded 4 #"]);
      const recorded = app.requests.filter(
        (r) => r.path === "/recorded" && r.params.CallSid === placed.callSid,
      );
      expect(recorded).toHaveLength(1);
      await app.waitFor(
        (r) =>
          r.path === "/recording-status" &&
          r.params.CallSid === placed.callSid &&
          r.params.RecordingStatus === "completed",
      );
      const statuses = app.requests.filter(
        (r) => r.path === "/recording-status" && r.params.CallSid === placed.callSid,
      );
      expect(statuses.map((r) => `${r.params.RecordingStatus} ${r.params.RecordingSid}`)).toEqual([
        `in-progress ${recorded[0]?.params.RecordingSid}`,
        `completed ${recorded[0]?.params.RecordingSid}`,
      ]);
    },
  );

  it("starts a call again from its lease, within seconds, when its worker dies before the first snapshot", async () => {
    early = worker();
    await using a = early;
    await a.waitForLog("ready");
    const c = call("+15558000004", () => false);
    const first = await app.waitFor((r) => r.path === "/early");
    await a.exited;
    // Nothing but the lease carries the call: without its job, it would wait for the stream's
    // redelivery (ack_wait, 30 s), past this call's 30 s timeout.
    expect(await storedSnapshot(first.params.CallSid ?? "")).toBeUndefined();
    await using b = worker();
    await b.waitForLog("ready");
    const readyAt = Date.now();
    const placed = await c.ended;
    expect(placed.call).toMatchObject({ status: "completed", error_code: null });
    expect(c.said).toEqual(["Started again"]);
    expect(c.resumed).toHaveLength(1);
    expect((c.resumed[0] ?? 0) - readyAt).toBeLessThan(5_000);
    const again = app.requests.filter((r) => r.path === "/early" && r.params.CallSid === placed.callSid);
    expect(again).toHaveLength(2);
    expect(await recordWrites(placed.callSid)).toBe(1);
  });

  it("ends the legs its <Dial> was bridged to before the Dial rings again, none left in-progress", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const c = call("+15558000005", (p) => p.source === "channel" && p.event.kind === "dial", {
      callees: { "+15559990001": { outcome: "answer", answerAfter: 1, talk: 4 } },
    });
    await c.at;
    // The snapshot names the leg, answered: the only place a resumed call can learn of it.
    const oldLeg = (await bridgedLeg(c.placed.sid))?.sid ?? "";
    const { killedAt, b } = await killAndReplace(a);
    await using _b = b;
    const placed = await c.ended;
    expect(placed.call.status).toBe("completed");
    expect(c.said).toEqual(["Dial completed"]);
    const calls = await new Kvm(engine.nc).open("sb_calls_us1");
    const legs: CallResource[] = [];
    for await (const key of await calls.keys()) {
      const leg = (await calls.get(key))?.json<CallResource>();
      if (leg?.parent_call_sid === placed.callSid) legs.push(leg);
    }
    // The old leg, ended by the worker that resumed the call (not left in-progress), and the new one.
    expect(legs).toHaveLength(2);
    const old = legs.find((l) => l.sid === oldLeg);
    expect(old).toMatchObject({ status: "completed", direction: "outbound-dial" });
    // Talking from its answer until the resume, a second or two after the kill.
    const talked = (Date.parse(old?.end_time ?? "") - killedAt) / 1000;
    expect(talked).toBeGreaterThan(-2);
    expect(talked).toBeLessThan(5);
    expect(Number(old?.duration)).toBeGreaterThanOrEqual(0);
    expect(legs.find((l) => l.sid !== oldLeg)).toMatchObject({ status: "completed", duration: "4" });
    // The old leg's `completed` callback, sent by the worker that ended it, numbered after the one
    // callback it had sent (ringing; initiated and answered were not asked for): SequenceNumber 1.
    const completed = await app.waitFor(
      (r) => r.path === "/leg-status" && r.params.CallSid === oldLeg && r.params.CallStatus === "completed",
    );
    expect(completed.params).toMatchObject({
      ParentCallSid: placed.callSid,
      Direction: "outbound-dial",
      SequenceNumber: "1",
      CallDuration: old?.duration,
    });
  });

  it.each([
    ["dies", "SIGKILL"],
    ["hands both calls over", "SIGTERM"],
  ] as const)(
    "takes back the hosted number's call its <Dial> was bridged to when the worker of both %s",
    async (_, signal) => {
      await using a = worker();
      await a.waitForLog("ready");
      longHosted = undefined;
      const requestsBefore = app.requests.length;
      const c = call("+15558000006", (p) => p.source === "channel" && p.event.kind === "dial");
      await c.at;
      const oldLeg = await bridgedLeg(c.placed.sid);
      const hostedSid = oldLeg?.hosted?.callSid ?? "";
      expect(hostedSid).toMatch(/^CA/);
      // Resumed from its snapshot, in its Pause (not started afresh from its lease, which would end it).
      await snapshotWhere(hostedSid);
      const { killedAt, b } = await killAndReplace(a, signal);
      await using _b = b;
      const placed = await c.ended;
      expect(placed.call.status).toBe("completed");
      expect(c.said).toEqual(["Dial completed"]);
      // No second call offered to the number: the Dial waited for the one it had, to its own end.
      const hostedCalls = new Set(
        app.requests
          .slice(requestsBefore)
          .filter((r) => r.path === "/hosted")
          .map((r) => r.params.CallSid),
      );
      expect([...hostedCalls]).toEqual([hostedSid]);
      const dialed = app.requests.find((r) => r.path === "/dialed" && r.params.CallSid === placed.callSid);
      expect(dialed?.params.DialCallSid).toBe(oldLeg?.sid);
      const calls = await new Kvm(engine.nc).open("sb_calls_us1");
      // Resumed from its own snapshot, its 6 s Pause played again in full: not hung up at the resume.
      const hosted = (await calls.get(hostedSid))?.json<CallResource>();
      expect(hosted).toMatchObject({ status: "completed", direction: "inbound" });
      expect(Date.parse(hosted?.end_time ?? "") - killedAt).toBeGreaterThan(3_000);
      const leg = (await calls.get(oldLeg?.sid ?? ""))?.json<CallResource>();
      expect(leg).toMatchObject({ status: "completed", parent_call_sid: placed.callSid });
    },
  );

  it("keeps a TimeLimit set on the live call: the resumed call still ends that long after its answer", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    const c = call("+15558000008", (p) => p.source === "channel" && p.event.kind === "pause");
    await c.at;
    // What `POST Calls/{Sid}` with TimeLimit=4 sends the worker hosting the call.
    readReply(
      await engine.nc.request(subjects().callControl("us1", c.placed.sid), encode({ timeLimitS: 4 }), {
        timeout: 5_000,
      }),
    );
    await snapshotWhere(c.placed.sid, (s) => s.sb.timeLimitS === 4);
    const { b } = await killAndReplace(a);
    await using _b = b;
    const placed = await c.ended;
    expect(c.resumed).toHaveLength(1);
    // Four seconds from the answer, not the 20 s Pause played again from its start after the resume.
    expect(placed.call.status).toBe("completed");
    expect(Number(placed.call.duration)).toBeGreaterThanOrEqual(4);
    expect(Number(placed.call.duration)).toBeLessThanOrEqual(5);
  });

  it("a worker only thought dead (stalled) stops its copy once another has taken the call over", async () => {
    await using a = worker();
    await a.waitForLog("ready");
    await using b = worker();
    await b.waitForLog("ready");
    const c = call("+15558000001", (p) => p.source === "channel" && p.event.kind === "pause");
    await c.at;
    // Which worker runs the call: the one whose lease names it.
    const kv = await new Kvm(engine.nc).open("sb_actors_us1");
    let owner = "";
    for await (const key of await kv.keys(`_o.*.${c.placed.sid}`)) owner = key.split(".")[1] ?? "";
    const [stalled, other] = owner.startsWith(`${a.child.pid}-`) ? [a, b] : [b, a];
    await snapshotStored(c.placed.sid); // resumed from it (in the Pause), not started again from the lease
    stalled.child.kill("SIGSTOP");
    try {
      await other.waitForLog("took over a dead worker's calls", 10_000);
    } finally {
      stalled.child.kill("SIGCONT");
    }
    await stalled.waitForLog("call was taken over by another worker; stopping this copy", 10_000);
    const placed = await c.ended;
    expect(placed.call.status).toBe("completed");
    // The stalled copy said nothing more: its Pause did not run on to the Redirect.
    expect(c.said).toEqual(["Hold", "Back"]);
    expect(await recordWrites(placed.callSid)).toBe(1);
  });
});
