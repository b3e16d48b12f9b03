// REST `Record=true` on a call through a trunk records the call's real audio on its gateway: the
// callee (sipp) sends a 1200 Hz tone while the app <Say>s a line, and the stored Recording, fetched as
// a WAV over REST, holds both — the callee in channel 1 and what it heard in channel 2 with `dual`,
// mixed with `mono` — over the call's length. Unanswered calls store none; a lost gateway, none either.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/call.js";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateAccount } from "../../src/admin/accounts.js";
import { addTrunk } from "../../src/admin/trunks.js";
import type { SipGateway } from "../../src/sip/gateway.js";
import { linearToUlaw } from "../../src/sip/rtp/g711.js";
import { Prompts } from "../../src/sip/tts/prompts.js";
import { openTrunkStores } from "../../src/store/global.js";
import { type Stack, startStack } from "../api/helpers/stack.js";
import { statusCallbacks } from "../api/helpers/status-callbacks.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { bestAlignment, correlationAt, powerAt, rms, wavSamples } from "./audio.js";
import { startGateway, startSipProcess } from "./harness.js";
import { sippUas, type UasOptions } from "./uas.js";

const CALLEE_IP = "127.0.0.3";
const FROM = "+15551253001";
const TO = "+15559873001";
const TEXT = "Your parcel will arrive on Tuesday afternoon.";
/** The callee's signal, sent from its ACK: SILENCE_S of silence, then TONE_S of this tone. */
const TONE_HZ = 1200;
const SILENCE_S = 5;
const TONE_S = 2;
const TONE = Int16Array.from({ length: TONE_S * 8000 }, (_, i) =>
  Math.round(8000 * Math.sin((2 * Math.PI * TONE_HZ * i) / 8000)),
);
/** Where the tone starts in the recording, which starts at the answer. */
const TONE_AT_S = SILENCE_S;

let stack: Stack;
let gateway: SipGateway | undefined;
let client: ReturnType<typeof twilioClient>["client"];
let signalDir: string;

beforeAll(async () => {
  stack = await startStack({
    routes: {
      "/say-then-wait": () => {
        const r = new VoiceResponse();
        r.say({ voice: "woman", language: "en-US" }, TEXT);
        r.pause({ length: 30 });
        return { body: r.toString() };
      },
      "/say-then-hang-up": () => {
        const r = new VoiceResponse();
        r.say({ voice: "woman", language: "en-US" }, TEXT);
        r.pause({ length: 5 });
        return { body: r.toString() };
      },
      "/status": () => ({ status: 204, body: "" }),
      "/rec": () => ({ status: 204, body: "" }),
    },
  });
  ({ client } = twilioClient(stack.api.url, stack.account));
  gateway = await startGateway(stack, "gw-rec");
  await stack.number(FROM);
  // tone.ulaw, as sipp's rtp_stream sends it: the silence, then the tone.
  signalDir = await mkdtemp(join(tmpdir(), "sb-callrec-"));
  const signal = new Int16Array((SILENCE_S + TONE_S) * 8000);
  signal.set(TONE, SILENCE_S * 8000);
  await writeFile(
    join(signalDir, "tone.ulaw"),
    Uint8Array.from(signal, (s) => linearToUlaw(s)),
  );
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await stack?.[Symbol.asyncDispose]();
});

/** Starts sipp running `scenario` behind the account's trunk and places a recorded call to it. */
async function recordedCall(
  scenario: string,
  path: string,
  params: Partial<CallListInstanceCreateOptions>,
  uasOptions: UasOptions = {},
) {
  const uas = await sippUas(scenario, { cwd: signalDir, ...uasOptions });
  const trunks = await openTrunkStores(stack.nc);
  await addTrunk(trunks, { name: "carrier", host: `${CALLEE_IP}:${uas.port}`, replace: true });
  await updateAccount({ ...stack.global, ...trunks }, stack.account.sid, { trunk: "carrier" });
  const created = await client.calls.create({
    to: TO,
    from: FROM,
    url: `${stack.app.url}${path}`,
    statusCallback: `${stack.app.url}/status`,
    statusCallbackEvent: ["answered", "completed"],
    record: true,
    recordingStatusCallback: `${stack.app.url}/rec`,
    ...params,
  });
  return { uas, created };
}

/** The call's one Recording, its `completed` callback, and its WAV as served by the REST API. */
async function storedRecording(callSid: string) {
  const done = await stack.app.waitFor(
    (r) => r.path === "/rec" && r.params.CallSid === callSid && r.params.RecordingStatus === "completed",
    30_000,
  );
  const recordings = await client.calls(callSid).recordings.list();
  expect(recordings.map((r) => r.sid)).toEqual([done.params.RecordingSid]);
  const [recording] = recordings;
  if (!recording) throw new Error("no recording");
  const auth = Buffer.from(`${stack.account.sid}:${stack.account.token}`).toString("base64");
  const url = `${stack.api.url}/2010-04-01/Accounts/${stack.account.sid}/Recordings/${recording.sid}.wav`;
  const media = await request(url, { headers: { authorization: `Basic ${auth}` } });
  expect(media.statusCode).toBe(200);
  const wav = new Uint8Array(await media.body.arrayBuffer());
  return { recording, done, wav, call: await client.calls(callSid).fetch() };
}

/** The call ended completed with no Recording, no recording callback, and a 90010 warning saying why. */
async function expectEndedUnrecorded(callSid: string): Promise<void> {
  const callbacks = await statusCallbacks(stack.app, callSid, 30_000);
  expect(callbacks.at(-1)?.params.CallStatus).toBe("completed");
  expect(await client.calls(callSid).recordings.list()).toEqual([]);
  expect(stack.app.requests.some((r) => r.path === "/rec" && r.params.CallSid === callSid)).toBe(false);
  const notes = await client.calls(callSid).notifications.list();
  expect(notes.map((n) => n.errorCode)).toContain("90010");
}

/** The two channels of an interleaved stereo WAV. */
function channelsOf(wav: Uint8Array): [Int16Array, Int16Array] {
  const both = wavSamples(wav);
  const left = new Int16Array(both.length / 2);
  const right = new Int16Array(both.length / 2);
  for (let i = 0; i < left.length; i++) {
    left[i] = both[2 * i] as number;
    right[i] = both[2 * i + 1] as number;
  }
  return [left, right];
}

/** The best correlation of the callee's tone with `pcm` near where it should start, and that start (s). */
function toneIn(pcm: Int16Array): { correlation: number; atS: number } {
  let best = { correlation: 0, atS: -1 };
  const from = Math.round((TONE_AT_S - 0.6) * 8000);
  for (let lag = Math.max(0, from); lag < from + 1.2 * 8000; lag += 2) {
    const c = correlationAt(TONE, pcm, lag);
    if (c > best.correlation) best = { correlation: c, atS: lag / 8000 };
  }
  return best;
}

/**
 * The share of the Say's voiced 400 ms windows found in `pcm` (correlation > 0.9) within 0.6 s of
 * where they belong, the Say starting at `at`: a stall of the gateway's pacer under load delays the
 * rest of a prompt (the callee hears, and the recording holds, a gap), which one alignment of the
 * whole would miss. (On a quiet machine the whole Say correlates at 0.99999.)
 */
function sayFound(spoken: Int16Array, pcm: Int16Array, at: number): number {
  const size = 3200;
  let voiced = 0;
  let found = 0;
  for (let k = 0; (k + 1) * size <= spoken.length; k++) {
    const window = spoken.subarray(k * size, (k + 1) * size);
    if (rms(window) < 500) continue;
    voiced++;
    const expected = at + k * size;
    let best = 0;
    for (let lag = Math.max(0, expected - 4800); lag <= expected + 4800; lag += 1)
      best = Math.max(best, correlationAt(window, pcm, lag));
    if (best > 0.9) found++;
  }
  return voiced === 0 ? 0 : found / voiced;
}

const seconds = (pcm: Int16Array) => pcm.length / 8000;
const slice = (pcm: Int16Array, fromS: number, toS: number) =>
  pcm.subarray(Math.round(fromS * 8000), Math.round(toS * 8000));

describe("Record=true on a call through a trunk", () => {
  it("records dual: the callee's tone in channel 1, the Say it heard in channel 2, until the callee hangs up", async () => {
    const { uas, created } = await recordedCall("uas-tone-bye.xml", "/say-then-wait", {
      recordingChannels: "dual",
    });
    expect((await uas.result).code).toBe(0);
    const { recording, done, wav, call } = await storedRecording(created.sid);
    expect(recording).toMatchObject({ source: "OutboundAPI", channels: 2, callSid: created.sid });
    expect(done.params).toMatchObject({ RecordingChannels: "2", RecordingSource: "OutboundAPI" });

    const [callee, heard] = channelsOf(wav);
    // From the answer to the callee's BYE 8 s later: the call's length.
    expect(seconds(callee)).toBeGreaterThan(7.5);
    expect(seconds(callee)).toBeLessThan(9);
    expect(Math.abs(seconds(callee) - Number(call.duration))).toBeLessThanOrEqual(1);
    expect(Number(done.params.RecordingDuration)).toBe(Math.round(seconds(callee)));
    expect(recording.duration).toBe(done.params.RecordingDuration);

    // Channel 1: the callee's tone, where it sent it, and none of the Say.
    const tone = toneIn(callee);
    expect(tone.correlation, "the callee's tone").toBeGreaterThan(0.9);
    expect(Math.abs(tone.atS - TONE_AT_S)).toBeLessThan(0.3);
    // Channel 2: the Say, as espeak-ng renders it, and none of the tone.
    const spoken = await new Prompts().say(TEXT, "woman", "en-US");
    const say = bestAlignment(heard, spoken);
    expect(sayFound(spoken, heard, say.at), "the Say").toBeGreaterThan(0.8);
    expect(say.at / 8000).toBeLessThan(1);
    const speechEndS = (say.at + spoken.length) / 8000;
    expect(rms(slice(callee, 0, Math.min(speechEndS, TONE_AT_S - 0.5)))).toBeLessThan(50);
    const toneSpan = (pcm: Int16Array) => slice(pcm, tone.atS, tone.atS + TONE_S);
    expect(powerAt(toneSpan(heard), TONE_HZ)).toBeLessThan(powerAt(toneSpan(callee), TONE_HZ) / 1000);
  }, 60_000);

  it("records mono: the Say and the callee's tone mixed, until the app hangs up", async () => {
    const { uas, created } = await recordedCall("uas-tone.xml", "/say-then-hang-up", {
      recordingChannels: "mono",
    });
    // sipp exits 0 once our BYE came: the app's TwiML ran out.
    expect((await uas.result).code).toBe(0);
    const { recording, wav, call } = await storedRecording(created.sid);
    expect(recording).toMatchObject({ source: "OutboundAPI", channels: 1 });
    const mixed = wavSamples(wav);
    expect(Math.abs(seconds(mixed) - Number(call.duration))).toBeLessThanOrEqual(1);

    const spoken = await new Prompts().say(TEXT, "woman", "en-US");
    const say = bestAlignment(mixed, spoken);
    expect(sayFound(spoken, mixed, say.at), "the Say").toBeGreaterThan(0.8);
    // The Say, then the 5 s Pause: the tone comes during the pause, and the call ends after it.
    const tone = toneIn(mixed);
    expect(tone.correlation, "the callee's tone").toBeGreaterThan(0.9);
    expect(Math.abs(tone.atS - TONE_AT_S)).toBeLessThan(0.3);
    expect(seconds(mixed)).toBeGreaterThan((say.at + spoken.length) / 8000 + 4.5);
  }, 60_000);

  it("stores no recording for a call that is never answered", async () => {
    const { uas, created } = await recordedCall("uas-busy.xml", "/say-then-wait", {});
    expect((await uas.result).code).toBe(0);
    const [final] = await statusCallbacks(stack.app, created.sid, 30_000);
    expect(final?.params.CallStatus).toBe("busy");
    expect(await client.calls(created.sid).recordings.list()).toEqual([]);
    expect(stack.app.requests.some((r) => r.path === "/rec" && r.params.CallSid === created.sid)).toBe(false);
  }, 60_000);

  // Last two: they stop the file's gateway.
  it("stores none, with a 90010 warning, when the gateway holding the call stops mid-call", async () => {
    const { uas, created } = await recordedCall("uas-tone.xml", "/say-then-wait", {});
    await stack.app.waitFor(
      (r) =>
        r.path === "/status" && r.params.CallSid === created.sid && r.params.CallStatus === "in-progress",
      15_000,
    );
    await gateway?.stop();
    gateway = undefined;
    // The stopping gateway hung up on the callee (BYE), and the region finds the call gone.
    const result = await uas.result;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    await expectEndedUnrecorded(created.sid);
  }, 60_000);

  it("stores none, with a 90010 warning, when the gateway process holding the call is killed", async () => {
    await gateway?.stop();
    gateway = undefined;
    // The only gateway now: `switchboard sip` in its own process, so it can be SIGKILLed.
    await using killed = (await startSipProcess(stack.nats.urlAs("admin"))).process;
    // Its start under a loaded machine has been seen to take over 20 s.
    await killed.waitForLog("ready", 45_000);
    // No BYE ever reaches this callee: sipp gives up at its timeout (killed at the test's end anyway).
    const { created } = await recordedCall("uas-tone.xml", "/say-then-wait", {}, { timeoutS: 20 });
    await stack.app.waitFor(
      (r) =>
        r.path === "/status" && r.params.CallSid === created.sid && r.params.CallStatus === "in-progress",
      15_000,
    );
    killed.child.kill("SIGKILL");
    // The region's channel pings the gateway every 5 s: no responders ends the call as a hang-up.
    await expectEndedUnrecorded(created.sid);
  }, 90_000);
});
