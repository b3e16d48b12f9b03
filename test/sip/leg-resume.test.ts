// A region worker dies while an outbound call's SIP leg rings, and the callee answers (or answers and
// hangs up, or the leg's gateway dies) before another worker resumes the call: the resumed call asks
// the leg's gateway what it missed (`leg-state`) instead of waiting for an event published to no one
// (issue #17). The callee (sipp) answers when the test cues it, once the old worker is dead.
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addTrunk } from "../../src/admin/trunks.js";
import { startApi } from "../../src/api/server.js";
import { decode } from "../../src/protocol/codec.js";
import { buckets } from "../../src/protocol/subjects.js";
import { FIRST_SNAPSHOT_MS } from "../../src/region/host/snapshot-writer.js";
import { openTrunkStores } from "../../src/store/global.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { bounded as boundedBy } from "../helpers/bounded.js";
import { startTestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, startGateway } from "./harness.js";
import { answerCue, sippUas } from "./uas.js";
import { watchCall } from "./worker-death.js";

const CALLEE_IP = "127.0.0.3";
const BOUND_MS = 20_000;

describe("a resumed outbound call whose SIP leg moved on while no worker listened", () => {
  it("answered: the resumed worker runs the app's TwiML on the leg", { timeout: 90_000 }, async () => {
    const run = await resumeAfter("answers");
    expect(run.sipp?.code, `${run.sipp?.stdout}${run.sipp?.stderr}`).toBe(0);
    expect(run.call.status).toBe("completed");
    expect(run.said).toEqual(["Hello"]);
    expect(run.voiceRequests).toBe(1);
  });

  it("answered and hung up: ends completed, its duration up to the callee's BYE", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeAfter("answers-and-hangs-up");
    expect(run.sipp?.code, `${run.sipp?.stdout}${run.sipp?.stderr}`).toBe(0);
    expect(run.call.status).toBe("completed");
    // From the call's creation to the callee's BYE, not to the resume (seconds later).
    expect(run.endedAfterByeS).toBeGreaterThan(1.5);
    expect(Math.abs(Number(run.call.duration) - run.byeAfterS)).toBeLessThanOrEqual(1);
    // The call was over before anyone could run its TwiML.
    expect(run.voiceRequests).toBe(0);
  });

  it("its gateway died too: the leg is gone, and the call fails at once instead of waiting", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeAfter("gateway-dies");
    expect(run.call.status).toBe("failed");
    // Not the Timeout (10 s) and its 15 s grace that a call waiting for the leg's events would take.
    expect(run.endedAfterReadyS).toBeLessThan(8);
    expect(run.voiceRequests).toBe(0);
  });
});

/** What happens while no worker runs: the callee answers, answers and hangs up, or the leg's gateway dies. */
type Meanwhile = "answers" | "answers-and-hangs-up" | "gateway-dies";

async function resumeAfter(meanwhile: Meanwhile) {
  await using engine = await startTestEngine({ worker: false });
  const api = await startApi({ nc: engine.nc, port: 0, log: pino({ level: "silent" }) });
  await using _api = { [Symbol.asyncDispose]: () => api.close() };
  await using app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.say("Hello");
      return { body: r.toString() };
    },
  });
  await engine.addNumber({ number: "+15551252002", voiceUrl: `${app.url}/voice` });
  // sipp answers when the test cues it, not on a timer.
  const cue = await answerCue();
  await using phone = await phoneRtp(CALLEE_IP);
  const uas = await sippUas("uas-answer-on-cue.xml", {
    keys: {
      rtpport: phone.port,
      cue: cue.port,
      hangup: meanwhile === "answers-and-hangs-up" ? "yes" : "no",
    },
    timeoutS: 60,
  });
  const trunks = await openTrunkStores(engine.nc);
  await addTrunk(trunks, { name: "carrier", host: `${CALLEE_IP}:${uas.port}` });
  await updateAccount({ ...engine.global, ...trunks }, engine.accountSid, { trunk: "carrier" });
  // Its own NATS connection, so that it can vanish from NATS as a gateway that died does.
  const gwNc = await connect({ servers: engine.nats.url });
  const gw = await startGateway({ nc: gwNc }, "gw-leg");
  await using _gw = {
    [Symbol.asyncDispose]: async () => {
      await gw.stop().catch(() => {});
      await gwNc.close();
    },
  };
  await using a = regionWorker(engine.nats.url);
  await a.waitForLog("ready");

  const watch = watchCall(engine.nc);
  // The leg's events and input as NATS carries them, whether a worker listens or not.
  const seen = new Map<string, () => void>();
  const heard = (kind: string) => new Promise<void>((resolve) => seen.set(kind, resolve));
  const ringing = heard("ringing");
  const answered = heard("answered");
  const hungUp = heard("in:hangup");
  const subs = ["leg", "in"].map((kind) =>
    engine.nc.subscribe(`sb.region.us1.call.*.${kind}`, {
      callback: (_, m) => {
        const event = (decode(m.data) as { kind: string }).kind;
        seen.get(kind === "in" ? `in:${event}` : event)?.();
      },
    }),
  );
  const { client } = twilioClient(api.url, { sid: engine.accountSid, token: engine.authToken });
  const createdAt = Date.now();
  const created = await client.calls.create({
    to: "+15559872002",
    from: "+15551252002",
    url: `${app.url}/voice`,
    timeout: 10,
  });
  // The leg rings, and the call's snapshot names its gateway: a worker that resumes it knows the leg.
  // Stored as the leg is placed, well inside a new call's first-snapshot window: a worker that died
  // before it would place the leg again from the call's job, and the callee would ring twice.
  const actors = await new Kvm(engine.nc).open(buckets.actors("us1"));
  const withLeg = snapshotWithLeg(actors, created.sid);
  await bounded(cue.callId, "the INVITE");
  const invitedAt = performance.now();
  await bounded(withLeg, "a snapshot with the leg");
  expect(performance.now() - invitedAt).toBeLessThan(FIRST_SNAPSHOT_MS / 2);
  await bounded(ringing, "the leg's ringing");
  a.child.kill("SIGKILL");
  await a.exited;
  // No worker runs now: the callee answers (and hangs up), the leg's events go to no one; or the
  // leg's gateway dies (the SIP side of this in-process one stays, unreachable over NATS).
  if (meanwhile === "gateway-dies") await gwNc.close();
  else {
    await cue.answer(uas);
    await bounded(answered, "the leg's answer");
  }
  if (meanwhile === "answers-and-hangs-up") await bounded(hungUp, "the callee's hang-up");
  const byeAt = Date.now();
  await using b = regionWorker(engine.nats.url);
  await b.waitForLog("ready");
  // Bounded beyond the Timeout + 15 s a worker that missed the answer waits: such a call ends no-answer.
  const ready = Date.now();
  const sipp = meanwhile === "gateway-dies" ? undefined : await bounded(uas.result, "sipp's end", 40_000);
  await bounded(watch.ended, "the call's end", 40_000);
  const endedAt = Date.now();
  await bounded(watch.firstResume, "the resume's inspection");
  watch.stop();
  for (const s of subs) s.unsubscribe();
  expect(watch.resumed()).toBe(1);
  if (sipp) expect(gw.calls.size).toBe(0);
  const call = await client.calls(created.sid).fetch();
  return {
    sipp,
    call,
    said: watch.said,
    voiceRequests: app.requests.filter((r) => r.path === "/voice").length,
    byeAfterS: (byeAt - createdAt) / 1000,
    endedAfterByeS: (endedAt - byeAt) / 1000,
    endedAfterReadyS: (endedAt - ready) / 1000,
  };
}

/** Resolves once the call's stored snapshot names the gateway of its leg (`sb.leg`). */
async function snapshotWithLeg(actors: Awaited<ReturnType<Kvm["open"]>>, callSid: string): Promise<void> {
  for await (const e of await actors.watch({ key: callSid })) {
    if (e.operation !== "PUT") continue;
    if ((e.json() as { sb?: { leg?: unknown } }).sb?.leg) return;
  }
}

const bounded = <T>(p: Promise<T>, what: string, ms = BOUND_MS) => boundedBy(p, what, ms);
