// <Dial> from a SIP call with real audio (issue #17): sipp calls a number through the gateway, the
// app <Dial>s a SIP callee (sipp on 127.0.0.3, directly or behind a digest-authenticating trunk), and
// the test checks by content what each party heard, and what the Dial's action and leg callbacks said.
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { describe, expect, it } from "vitest";
import { addNumber } from "../../src/admin/numbers.js";
import { addTrunk } from "../../src/admin/trunks.js";
import type { CallResource } from "../../src/model/records.js";
import { decode } from "../../src/protocol/codec.js";
import { buckets } from "../../src/protocol/subjects.js";
import { openTrunkStores } from "../../src/store/global.js";
import { TrunkWatch } from "../../src/store/trunks.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import {
  CALLEE_IP,
  CALLEE_SIGNAL,
  CALLER_SIGNAL,
  type Callee,
  correlation,
  pcmOf,
  signalDir,
  sippCallee,
} from "./dial-peers.js";
import { phoneRtp, type SippResult, sipp, startGateway } from "./harness.js";

const NUMBER = "+15551230007";

type DialTwiml = (r: InstanceType<typeof VoiceResponse>, callee: string) => void;

/** The engine, a gateway and an app whose /voice runs `dial` and whose /dialed hangs up. */
async function setUp(dial: DialTwiml, callee: string) {
  const engine = await startTestEngine();
  const app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      dial(r, callee);
      return { body: r.toString() };
    },
    "/dialed": () => {
      const r = new VoiceResponse();
      r.hangup();
      return { body: r.toString() };
    },
    "/leg": () => ({ body: "" }),
    "/whisper": () => {
      const r = new VoiceResponse();
      r.play({ digits: "1234" });
      return { body: r.toString() };
    },
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
  // The gateway reads the trunks (regions may not): a <Number> leg names its trunk.
  const trunks = await TrunkWatch.start((await openTrunkStores(engine.nc)).trunks.kv);
  const gw = await startGateway(engine, "gw1", { trunks });
  return {
    engine,
    app,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.stop();
      trunks.stop();
      await app.close();
      await engine[Symbol.asyncDispose]();
    },
  };
}

const ok = (r: SippResult) => [r.code, r.stdout + r.stderr] as const;

/** Calls NUMBER from sipp running `scenario` (RTP to `phone`); both it and the callee must exit 0. */
async function callThrough(
  s: { gw: { sipPort: number } },
  phone: { port: number },
  scenario: string,
  callee: Callee,
  cwd?: string,
): Promise<void> {
  const caller = await sipp(s.gw.sipPort, scenario, {
    to: NUMBER,
    keys: { rtpport: phone.port },
    ...(cwd !== undefined && { cwd }),
  });
  expect(...ok(caller)).toBe(0);
  expect(...ok(await callee.result)).toBe(0);
}

/** The parent's and the leg's `answer` on `.out`, in the order they came. */
function answers(engine: TestEngine): { order: string[]; stop: () => void } {
  const order: string[] = [];
  const sub = engine.nc.subscribe("sb.region.us1.call.*.out", {
    callback: (_, msg) => {
      const body = decode(msg.data) as { kind?: string };
      if (body.kind === "answer") order.push(msg.subject.split(".")[4] ?? "");
    },
  });
  return { order, stop: () => sub.unsubscribe() };
}

async function dialAction(app: TwilioApp) {
  return (await app.waitFor((r) => r.path === "/dialed", 30_000)).params;
}

describe("<Dial> from a SIP call", () => {
  it("bridges a <Sip> callee's audio both ways, PCMU caller and PCMA callee, content intact", {
    timeout: 60_000,
  }, async () => {
    const dir = await signalDir();
    const calleeRtp = await phoneRtp(CALLEE_IP);
    await using _callee = calleeRtp;
    // The callee checks the INVITE: X-Ticket from the URI's headers, the callerId as From.
    const callee = await sippCallee("dial-callee-headers.xml", {
      cwd: dir,
      keys: { rtpport: calleeRtp.port },
    });
    await using s = await setUp(
      (r, to) =>
        r
          .dial({ action: "/dialed", callerId: NUMBER })
          .sip({ statusCallback: "/leg", statusCallbackEvent: ["completed"] }, to),
      `sip:bob@${CALLEE_IP}:${callee.port}?X-Ticket=42`,
    );
    await using phone = await phoneRtp();
    await callThrough(s, phone, "dial-caller.xml", callee, dir);
    // Each heard the other: G.711 both ways, transcoded μ-law→A-law and back.
    expect(correlation(pcmOf(calleeRtp.packets), CALLER_SIGNAL)).toBeGreaterThanOrEqual(0.99);
    expect(correlation(pcmOf(phone.packets), CALLEE_SIGNAL)).toBeGreaterThanOrEqual(0.99);
    expect(calleeRtp.packets.filter((p) => p.payloadType !== 101).every((p) => p.payloadType === 8)).toBe(
      true,
    );
    // The action carries the leg's Call-ID and its 200 OK's X- headers (names in canonical case),
    // signed as the `twilio` package checks them.
    const action = await s.app.waitFor((r) => r.path === "/dialed", 30_000);
    expect(action.signatureValid).toBe(true);
    expect(action.params).toMatchObject({
      DialCallStatus: "completed",
      DialSipResponseCode: "200",
      "DialSipHeader_X-Foo": "bar",
      "DialSipHeader_X-Seen": "42 sip:+15551230007@",
    });
    expect(action.params.DialSipCallId).toMatch(/.+/);
    expect(action.params["DialSipHeader_X-Call-Id-Echo"]).toBe(action.params.DialSipCallId);
    const leg = await s.app.waitFor((r) => r.path === "/leg");
    expect(leg.params).toMatchObject({ CallStatus: "completed", Direction: "outbound-dial" });
    const calls = await new Kvm(s.engine.nc).open(buckets.calls("us1"));
    const child = (await calls.get(leg.params.CallSid ?? ""))?.json<CallResource>();
    expect(child).toMatchObject({ status: "completed", to: expect.stringMatching(/^sip:bob@/) });
  });

  // Region workers may not read the trunks: the region names the trunk, and the gateway fills in its
  // address and credentials from its watched copy (throughTrunk, src/sip/outbound-legs.ts).
  it("sends <Dial><Number> through the number's trunk, answering its 401 digest challenge", {
    timeout: 60_000,
  }, async () => {
    const dir = await signalDir();
    const calleeRtp = await phoneRtp(CALLEE_IP);
    await using _callee = calleeRtp;
    const trunk = await sippCallee("dial-callee-auth.xml", { cwd: dir, keys: { rtpport: calleeRtp.port } });
    await using s = await setUp((r) => r.dial({ action: "/dialed" }).number("+15559876543"), "");
    const trunks = await openTrunkStores(s.engine.nc);
    await addTrunk(trunks, {
      name: "carrier",
      host: `${CALLEE_IP}:${trunk.port}`,
      username: "trunkuser",
      password: "s3cret",
    });
    await addNumber(
      s.engine.nc,
      { ...s.engine.global, ...trunks },
      {
        number: NUMBER,
        region: "us1",
        voiceUrl: `${s.app.url}/voice`,
        accountSid: s.engine.accountSid,
        trunk: "carrier",
      },
    );
    await using phone = await phoneRtp();
    // sipp checked the digest (a wrong one gets 403 and fails it) and the Request-URI's number.
    await callThrough(s, phone, "dial-caller.xml", trunk, dir);
    expect(correlation(pcmOf(calleeRtp.packets), CALLER_SIGNAL)).toBeGreaterThanOrEqual(0.99);
    expect(correlation(pcmOf(phone.packets), CALLEE_SIGNAL)).toBeGreaterThanOrEqual(0.99);
  });

  it("reports a busy <Sip> callee as busy, with its SIP response code, Call-ID and X- headers", {
    timeout: 60_000,
  }, async () => {
    const callee = await sippCallee("dial-callee-busy.xml", { cwd: await signalDir() });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed" }).sip(to),
      `sip:busy@${CALLEE_IP}:${callee.port}`,
    );
    await using phone = await phoneRtp();
    await callThrough(s, phone, "dial-caller-waits.xml", callee);
    const action = await s.app.waitFor((r) => r.path === "/dialed", 30_000);
    expect(action.signatureValid).toBe(true);
    expect(action.params).toMatchObject({
      DialCallStatus: "busy",
      DialSipResponseCode: "486",
      DialBridged: "false",
      "DialSipHeader_X-Busy-Reason": "all lines in use",
    });
    expect(action.params.DialSipCallId).toMatch(/.+/);
    expect(action.params["DialSipHeader_X-Call-Id-Echo"]).toBe(action.params.DialSipCallId);
  });

  it("cancels an unanswered callee at the Dial's timeout (CANCEL) and reports no-answer", {
    timeout: 60_000,
  }, async () => {
    const callee = await sippCallee("dial-callee-noanswer.xml", { cwd: await signalDir() });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed", timeout: 5 }).sip(to),
      `sip:nobody@${CALLEE_IP}:${callee.port}`,
    );
    await using phone = await phoneRtp();
    const started = Date.now();
    // sipp exits 0 only if the CANCEL came (and its ACK for the 487).
    await callThrough(s, phone, "dial-caller-waits.xml", callee);
    const action = await dialAction(s.app);
    expect(action).toMatchObject({ DialCallStatus: "no-answer", DialSipResponseCode: "487" });
    expect(action.DialSipCallId).toMatch(/.+/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
  });

  it("keeps the caller unanswered until the callee answers (answerOnBridge)", {
    timeout: 60_000,
  }, async () => {
    const callee = await sippCallee("dial-callee-late.xml", { cwd: await signalDir() });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed", answerOnBridge: true, timeLimit: 2 }).sip(to),
      `sip:bob@${CALLEE_IP}:${callee.port}`,
    );
    const seen = answers(s.engine);
    await using phone = await phoneRtp();
    await callThrough(s, phone, "dial-caller-waits.xml", callee);
    seen.stop();
    const action = await dialAction(s.app);
    // The leg answered first; only then was the caller answered (its 200 OK).
    expect(seen.order).toEqual([action.DialCallSid, action.CallSid]);
  });

  it("ends the bridge when the caller presses * (hangupOnStar), hanging up the callee", {
    timeout: 60_000,
  }, async () => {
    const callee = await sippCallee("dial-callee.xml", { cwd: await signalDir() });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed", hangupOnStar: true }).sip(to),
      `sip:bob@${CALLEE_IP}:${callee.port}`,
    );
    await using phone = await phoneRtp();
    // The callee got the BYE (its scenario waits for it), and the caller was still there for /dialed.
    await callThrough(s, phone, "dial-caller-star.xml", callee);
    expect(await dialAction(s.app)).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
  });

  it("ends the bridge at the Dial's timeLimit", { timeout: 60_000 }, async () => {
    const callee = await sippCallee("dial-callee.xml", { cwd: await signalDir() });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed", timeLimit: 2 }).sip(to),
      `sip:bob@${CALLEE_IP}:${callee.port}`,
    );
    await using phone = await phoneRtp();
    await callThrough(s, phone, "dial-caller-waits.xml", callee);
    const action = await dialAction(s.app);
    expect(action).toMatchObject({ DialCallStatus: "completed", DialSipResponseCode: "200" });
    expect(Number(action.DialCallDuration)).toBeGreaterThanOrEqual(2);
    expect(Number(action.DialCallDuration)).toBeLessThanOrEqual(3);
  });

  it("records the bridge from the answer, one channel per party (record-from-answer-dual)", {
    timeout: 60_000,
  }, async () => {
    const dir = await signalDir();
    const calleeRtp = await phoneRtp(CALLEE_IP);
    await using _callee = calleeRtp;
    const callee = await sippCallee("dial-callee.xml", { cwd: dir, keys: { rtpport: calleeRtp.port } });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed", timeLimit: 4, record: "record-from-answer-dual" }).sip(to),
      `sip:bob@${CALLEE_IP}:${callee.port}`,
    );
    await using phone = await phoneRtp();
    await callThrough(s, phone, "dial-caller-waits.xml", callee);
    const action = await dialAction(s.app);
    expect(action.RecordingUrl).toMatch(/\/Recordings\/RE[0-9a-f]{32}$/);
    const store = await new Objm(s.engine.nc).open(buckets.recordings("us1"));
    const [stored] = await store.list();
    const wav = Buffer.from((await store.getBlob(stored?.name ?? "")) ?? new Uint8Array());
    expect(wav.readUInt16LE(22)).toBe(2);
    const { left, right } = deinterleave(wav);
    // The caller sent nothing here (dial-caller-waits.xml); the callee its chirp: left silent, right it.
    expect(correlation(right, CALLEE_SIGNAL)).toBeGreaterThanOrEqual(0.99);
    expect(rms(left)).toBeLessThan(rms(right) / 10);
  });
});

describe("a whisper on a SIP leg", () => {
  it("runs the <Sip url> TwiML on the answered leg, then bridges", { timeout: 60_000 }, async () => {
    const dir = await signalDir();
    const calleeRtp = await phoneRtp(CALLEE_IP);
    await using _callee = calleeRtp;
    const callee = await sippCallee("dial-callee-headers.xml", {
      cwd: dir,
      keys: { rtpport: calleeRtp.port },
    });
    await using s = await setUp(
      (r, to) => r.dial({ action: "/dialed", timeLimit: 4, callerId: NUMBER }).sip({ url: "/whisper" }, to),
      `sip:bob@${CALLEE_IP}:${callee.port}?X-Ticket=42`,
    );
    await using phone = await phoneRtp();
    await callThrough(s, phone, "dial-caller-waits.xml", callee);
    const action = await dialAction(s.app);
    const whisper = await s.app.waitFor((r) => r.path === "/whisper");
    // The screening request gets the leg's Call-ID and the 200 OK's X- headers as SipHeader_X-*
    // (Twilio's <Sip> page and receiving-sip guide).
    expect(whisper.signatureValid).toBe(true);
    expect(whisper.params).toMatchObject({
      CallSid: action.DialCallSid,
      ParentCallSid: action.CallSid,
      SipCallId: action.DialSipCallId,
      "SipHeader_X-Foo": "bar",
    });
    expect(action.DialSipCallId).toMatch(/\S/);
    expect(action).toMatchObject({ DialCallStatus: "completed", DialBridged: "true" });
    // The whisper's keys went to the callee as RFC 4733 events on its leg (the caller sent none).
    expect(calleeRtp.packets.some((p) => p.payloadType === 101)).toBe(true);
  });
});

/** A 16-bit stereo WAV's two channels (the data chunk after a 44-byte header). */
function deinterleave(wav: Buffer): { left: Int16Array; right: Int16Array } {
  const frames = (wav.length - 44) / 4;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = wav.readInt16LE(44 + 4 * i);
    right[i] = wav.readInt16LE(46 + 4 * i);
  }
  return { left, right };
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}
