// A region worker dies while a SIP call's <Dial> leg rings or is bridged, and another worker resumes
// the call. Bridged, the resumed Dial takes the leg back: no new INVITE, the bridge set up again on
// the gateway (audio checked by content), and the Dial ends when the callee hangs up, with that leg
// as its DialCallSid, or at its timeLimit counted from the first bridge. Ringing, it takes the ringing leg back too: no CANCEL and no second INVITE, the
// callee's phone rings on, and its answer — after the resume, or while no worker listened — bridges
// the caller to it. The callee is a raw SIP peer, so the test sees every request it gets, and when.
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { buckets } from "../../src/protocol/subjects.js";
import { linearToUlaw, ulawToLinear } from "../../src/sip/rtp/g711.js";
import { buildRtp } from "../../src/sip/rtp/packet.js";
import { bounded as boundedBy } from "../helpers/bounded.js";
import { startTestEngine } from "../helpers/engine.js";
import { messagesSeen } from "../helpers/messages-seen.js";
import { regionWorker } from "../helpers/region-worker.js";
import { snapshotWhere } from "../helpers/snapshots.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { framesOf } from "./audio.js";
import { type PhoneRtp, phoneRtp, sipp, startGateway } from "./harness.js";
import { type RawPeer, rawPeer, reply, request, type SipText } from "./raw-sip.js";
import { onlyRecording } from "./recordings.js";

const NUMBER = "+15551230031";
const CALLEE_IP = "127.0.0.3";
const BOUND_MS = 20_000;

describe("a SIP call resumed while its <Dial> leg rang or talked", () => {
  it("bridged: the resumed Dial takes the leg back — no new INVITE, the bridge carries audio again", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("bridged");
    // The only INVITE the callee saw, and nothing from the gateway ended it: the callee did.
    expect(run.invites).toBe(1);
    expect(run.endedByGateway).toBe(false);
    // The callee's tone, sent after the resume, reached the caller through the bridge set up again.
    expect(run.toneRms).toBeGreaterThan(2_000);
    expect(run.dialed).toMatchObject({ DialCallStatus: "completed", DialCallSid: run.oldLeg.sid });
    // The <Sip>'s final response as the dead worker heard it, kept with the leg.
    expect(run.dialed).toMatchObject({ DialSipResponseCode: "200", DialSipCallId: run.firstCallId });
    expect(Number(run.dialed.DialCallDuration)).toBeGreaterThanOrEqual(1);
    expect(run.oldLeg).toMatchObject({ status: "completed", direction: "outbound-dial" });
    expect(run.oldLeg.duration).toBe(run.dialed.DialCallDuration);
  });

  it("bridged with a timeLimit: the limit counts from the first bridge, not from the resume", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("bridged", { timeLimitS: 6 });
    // The resume took long enough (the dead worker's heartbeat had to lapse) to tell the two apart.
    expect(run.resumeGapMs).toBeGreaterThan(1_000);
    expect(run.limitAfterMs).toBeGreaterThan(6_000 - 500);
    expect(run.limitAfterMs).toBeLessThan(6_000 + run.resumeGapMs / 2);
    expect(run.invites).toBe(1);
    expect(run.dialed).toMatchObject({ DialCallStatus: "completed", DialCallSid: run.oldLeg.sid });
    expect(Number(run.dialed.DialCallDuration)).toBeGreaterThanOrEqual(5);
    expect(Number(run.dialed.DialCallDuration)).toBeLessThanOrEqual(7);
  });

  it("bridged and recorded: the Recording holds the whole conversation, from before the resume too", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("bridged", { record: "record-from-answer" });
    expect(run.toneRms).toBeGreaterThan(2_000);
    const pcm = run.recording ?? new Int16Array();
    // What the callee said before the worker died (1 kHz, 50 frames) and after the resume (500 Hz).
    expect(framesOf(pcm, 1000)).toBeGreaterThanOrEqual(40);
    expect(framesOf(pcm, 500)).toBeGreaterThanOrEqual(40);
    expect(run.dialed.RecordingUrl).toMatch(/\/Recordings\/RE[0-9a-f]{32}$/);
    expect(Number(run.dialed.RecordingDuration)).toBeGreaterThanOrEqual(Math.floor(run.resumeGapMs / 1000));
  });

  it("bridged and recorded, handed over (SIGTERM): the bridge is not stopped, and one Recording holds the whole conversation", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("bridged", { record: "record-from-answer", stop: "SIGTERM" });
    expect(run.invites).toBe(1);
    expect(run.endedByGateway).toBe(false);
    expect(run.toneRms).toBeGreaterThan(2_000);
    // The worker that stopped sent no `stop` for its bridge: the gateway kept it until the next took it.
    expect(run.bridgeStops).toBe(0);
    const pcm = run.recording ?? new Int16Array();
    expect(framesOf(pcm, 1000)).toBeGreaterThanOrEqual(40);
    expect(framesOf(pcm, 500)).toBeGreaterThanOrEqual(40);
    expect(run.dialed).toMatchObject({ DialCallStatus: "completed", DialCallSid: run.oldLeg.sid });
  });

  it("ringing: the resumed Dial takes the ringing leg back — no CANCEL, no second INVITE; its answer is bridged", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("ringing");
    expectTakenBack(run);
  });

  it("ringing, handed over (SIGTERM): the stopping worker leaves the leg ringing and the next takes it back", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("ringing", { stop: "SIGTERM" });
    expectTakenBack(run);
  });

  it("answered while no worker listened: the resumed Dial learns it from the gateway and bridges it", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("answered");
    expectTakenBack(run);
  });

  it("ringing two <Sip> at once: both are taken back; the one answering after the resume wins, the other is cancelled", {
    timeout: 90_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine, "gw1");
    await using callee = await rawPeer(CALLEE_IP, gw.sipPort);
    await using calleeRtp = await phoneRtp(CALLEE_IP);
    const uriOf = (user: string) => `sip:${user}@${CALLEE_IP}:${callee.port}`;
    await using app = await dialingApp(engine, (r) => {
      const dial = r.dial({ action: "/dialed", timeout: 30 });
      dial.sip(uriOf("alice"));
      dial.sip(uriOf("bob"));
    });
    const ua = await numberCalling(engine, app, callee, calleeRtp);
    await using a = regionWorker(engine.nats.url);
    await a.waitForLog("ready");
    await using phone = await phoneRtp();
    const caller = callerDialing(gw, phone);
    const invites = [await ua.invited(), await ua.invited()];
    const userOf = (m: SipText) => /^INVITE sip:([^@]+)@/.exec(m.start)?.[1];
    const alice = invites.find((m) => userOf(m) === "alice");
    const bob = invites.find((m) => userOf(m) === "bob");
    if (!alice || !bob) throw new Error(`INVITEs to ${invites.map(userOf).join(", ")}`);
    ua.ring(alice);
    ua.ring(bob);
    const parentSid = (await app.waitFor((r) => r.path === "/voice")).params.CallSid ?? "";
    const bridges = countBridges(engine, parentSid);
    const stored = await bounded(
      snapshotWhere(
        engine.nc,
        parentSid,
        (s) => s.sb.dialLegs?.filter((l) => l.gateway === "gw1").length === 2,
      ),
      "a snapshot naming both legs",
    );
    const legOf = (user: string) => stored.sb.dialLegs?.find((l) => l.to === uriOf(user))?.sid ?? "";
    const asked = messagesSeen(engine.nc, "sb.sip.gw1.call.*.cmd", (m) => m.op === "leg-state");
    await using b = regionWorker(engine.nats.url);
    await b.waitForLog("ready");
    a.child.kill("SIGKILL");
    await a.exited;
    // Each leg asked about twice: as the call resumes, and as its Dial listens to it again.
    await bounded(asked.reached(4), "the resumed Dial asking the gateway about both legs");
    await ua.answer(bob);
    await bounded(bridges.reached(1), "the bridge to the leg that answered");
    // The other leg lost: the gateway cancels it, as it would have without the resume.
    const cancel = await bounded(
      callee.next((m) => m.method === "CANCEL" && callId(m) === callId(alice), BOUND_MS),
      "the losing leg's CANCEL",
    );
    callee.send(reply(cancel, "200 OK"));
    callee.send(ua.response(alice, "487 Request Terminated"));
    expect(await toneThroughBridge(calleeRtp, bob, phone)).toBeGreaterThan(2_000);
    ua.hangUp(bob);
    const result = await bounded(caller, "the caller's end", 40_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    bridges.stop();
    asked.stop();
    expect(ua.invites()).toBe(2);
    const dialed = (await app.waitFor((r) => r.path === "/dialed")).params;
    expect(dialed).toMatchObject({ DialCallStatus: "completed", DialCallSid: legOf("bob") });
    const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
    const record = async (sid: string) => (await calls.get(sid))?.json<CallResource>();
    expect(await record(legOf("bob"))).toMatchObject({ status: "completed" });
    expect(await record(legOf("alice"))).toMatchObject({ status: "canceled", duration: null });
  });
});

/** The one leg rang on and was answered: bridged once, after the resume, carrying the callee's audio. */
function expectTakenBack(run: Awaited<ReturnType<typeof resumeWhile>>) {
  expect(run.invites).toBe(1);
  expect(run.endedByGateway).toBe(false);
  expect(run.bridges).toBe(1);
  expect(run.toneRms).toBeGreaterThan(2_000);
  expect(run.dialed).toMatchObject({
    DialCallStatus: "completed",
    DialCallSid: run.oldLeg.sid,
    DialSipResponseCode: "200",
    DialSipCallId: run.firstCallId,
  });
  expect(run.oldLeg).toMatchObject({ status: "completed", direction: "outbound-dial" });
  expect(run.oldLeg.duration).toBe(run.dialed.DialCallDuration);
}

async function resumeWhile(
  moment: "ringing" | "answered" | "bridged",
  opts: { timeLimitS?: number; record?: "record-from-answer"; stop?: "SIGKILL" | "SIGTERM" } = {},
) {
  // SIGTERM: a graceful stop that hands its live calls over at once (no drain).
  const stop = opts.stop ?? "SIGKILL";
  await using engine = await startTestEngine({ worker: false });
  await using gw = await startGateway(engine, "gw1");
  await using callee = await rawPeer(CALLEE_IP, gw.sipPort);
  await using calleeRtp = await phoneRtp(CALLEE_IP);
  await using app = await dialingApp(engine, (r) => {
    r.dial({
      action: "/dialed",
      timeout: 30,
      ...(opts.timeLimitS && { timeLimit: opts.timeLimitS }),
      ...(opts.record && { record: opts.record }),
    }).sip(`sip:callee@${CALLEE_IP}:${callee.port}`);
  });
  const ua = await numberCalling(engine, app, callee, calleeRtp);
  await using a = regionWorker(engine.nats.url, stop === "SIGTERM" ? ["--drain", "0"] : []);
  await a.waitForLog("ready");
  await using phone = await phoneRtp();
  const caller = callerDialing(gw, phone);

  const first = await ua.invited();
  const parentSid = (await app.waitFor((r) => r.path === "/voice")).params.CallSid ?? "";
  // The parent's bridges, as its channel announces them: the first worker's, then the resumed one's.
  const bridges = countBridges(engine, parentSid);
  ua.ring(first);
  let bridgedAt = 0;
  if (moment === "bridged") {
    await ua.answer(first);
    await bounded(bridges.reached(1), "the first bridge");
    bridgedAt = performance.now();
    // Recorded: the callee says something (1 kHz) before the worker dies.
    if (opts.record) await toneThroughBridge(calleeRtp, first, phone, 1000);
  }
  // The parent's snapshot names the leg (bridged, once answered): all a resumed call knows of it.
  const stored = await bounded(
    snapshotWhere(engine.nc, parentSid, (s) => {
      const leg = s.sb.dialLegs?.[0];
      return leg?.gateway === "gw1" && (moment !== "bridged" || leg.bridged === true);
    }),
    "a snapshot naming the leg",
  );
  const oldLegSid = stored.sb.dialLegs?.[0]?.sid ?? "";
  // The resumed worker asks the gateway what became of the leg: once as it resumes the call, and
  // (a ringing leg) once more when its Dial listens to the leg again.
  const asked = countLegStateQuestions(engine, "gw1", oldLegSid);
  // Answered while no worker listens: the second worker starts only after the callee's answer.
  const b = moment === "answered" ? undefined : regionWorker(engine.nats.url);
  await using _b = b;
  await b?.waitForLog("ready");
  // The `stop` commands sent for the parent from here to its next bridge (a hand-over sends none).
  const bridgeStops = messagesSeen(engine.nc, `sb.sip.gw1.call.${parentSid}.cmd`, (m) => m.op === "stop");
  a.child.kill(stop);
  await a.exited;
  if (moment === "answered") await ua.answer(first);
  await using late = moment === "answered" ? regionWorker(engine.nats.url) : undefined;
  await late?.waitForLog("ready");

  let toneRms = 0;
  if (moment === "ringing") {
    // The Dial hears the leg's events again before the callee answers.
    await bounded(asked.reached(2), "the resumed Dial asking the gateway about its leg");
    await ua.answer(first);
  }
  // Taken back: the resumed Dial bridges the same leg (again), and the bridge carries the callee.
  await bounded(bridges.reached(moment === "bridged" ? 2 : 1), "the resumed Dial's bridge");
  const stopsBeforeRebridge = bridgeStops.count();
  bridgeStops.stop();
  const resumeGapMs = performance.now() - bridgedAt;
  let limitAfterMs = 0;
  if (opts.timeLimitS) {
    // The Dial's timeLimit ends the bridge: the gateway hangs the callee up.
    const bye = await bounded(
      callee.next((m) => m.method === "BYE" && callId(m) === callId(first), 30_000),
      "the BYE at the Dial's timeLimit",
      30_000,
    );
    callee.send(reply(bye, "200 OK"));
    limitAfterMs = (bye.receivedAt ?? 0) - bridgedAt;
  } else {
    // After the resume the callee says something else (500 Hz), where a recording is told apart.
    toneRms = await toneThroughBridge(calleeRtp, first, phone, opts.record ? 500 : 1000);
    // The callee hangs up: the Dial ends, its action hangs up, the caller hears the BYE.
    ua.hangUp(first);
  }
  const result = await bounded(caller, "the caller's end", 40_000);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  bridges.stop();
  asked.stop();
  const dialed = (await app.waitFor((r) => r.path === "/dialed")).params;
  const endedByGateway = callee.received.some(
    (m) => (m.method === "BYE" || m.method === "CANCEL") && callId(m) === callId(first),
  );

  const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
  const oldLeg = (await calls.get(oldLegSid))?.json<CallResource>();
  if (!oldLeg) throw new Error(`no record of the old leg ${oldLegSid}`);
  expect(oldLeg.parent_call_sid).toBe(parentSid);
  return {
    invites: ua.invites(),
    endedByGateway,
    toneRms,
    bridges: bridges.count(),
    bridgeStops: stopsBeforeRebridge,
    dialed,
    oldLeg,
    firstCallId: callId(first),
    resumeGapMs,
    limitAfterMs,
    recording: opts.record ? await onlyRecording(engine.nc) : undefined,
  };
}

/** The app: /voice dials as `dial` writes it, its action /dialed hangs up. */
function dialingApp(engine: { authToken: string }, dial: (r: InstanceType<typeof VoiceResponse>) => void) {
  return startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      dial(r);
      return { body: r.toString() };
    },
    "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
  });
}

/** The number, answered by the app's /voice; the callee's side of each leg the gateway places. */
async function numberCalling(
  engine: { addNumber(n: { number: string; voiceUrl: string }): Promise<unknown> },
  app: { url: string },
  callee: RawPeer,
  calleeRtp: PhoneRtp,
) {
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
  return calleeOf(callee, calleeRtp.port);
}

/** A sipp caller dialing the number through the gateway, hearing on `phone`; it waits for the BYE. */
const callerDialing = (gw: { sipPort: number }, phone: PhoneRtp) =>
  sipp(gw.sipPort, "dial-caller-waits.xml", { to: NUMBER, keys: { rtpport: phone.port }, timeoutS: 60 });

/** Counts the `leg-state` questions sent to the gateway about one leg (sip-commands.ts). */
function countLegStateQuestions(engine: { nc: NatsConnection }, gateway: string, legSid: string) {
  return messagesSeen(engine.nc, `sb.sip.${gateway}.call.${legSid}.cmd`, (m) => m.op === "leg-state");
}

/** Counts the `dial` (bridge) events on the call's `.out`. */
function countBridges(engine: { nc: NatsConnection }, callSid: string) {
  return messagesSeen(engine.nc, `sb.region.us1.call.${callSid}.out`, (m) => m.kind === "dial");
}

/**
 * Sends a second of a tone (`hz`) from the callee to the gateway's media address for its leg (paced as RTP
 * is, every 20 ms) and returns the loudest 20 ms the caller's phone then received (RMS; a bridge that
 * carries nothing gives the caller silence, about 0).
 */
async function toneThroughBridge(from: PhoneRtp, invite: SipText, to: PhoneRtp, hz = 1000): Promise<number> {
  const host = /c=IN IP4 (\S+)/.exec(invite.body)?.[1] ?? "127.0.0.1";
  const port = Number(/m=audio (\d+)/.exec(invite.body)?.[1]);
  const before = to.packets.length;
  const ssrc = 0x5eed;
  for (let i = 0; i < 50; i++) {
    const payload = new Uint8Array(160);
    for (let j = 0; j < 160; j++)
      payload[j] = linearToUlaw(Math.round(8000 * Math.sin((2 * Math.PI * hz * (i * 160 + j)) / 8000)));
    const packet = buildRtp({
      payloadType: 0,
      marker: i === 0,
      sequence: i,
      timestamp: i * 160,
      ssrc,
      payload,
    });
    from.socket.send(packet, port, host);
    await new Promise((r) => setTimeout(r, 20)); // RTP's own pace, not a wait for an event
  }
  await to.waitForPackets(before + 50, BOUND_MS);
  let loudest = 0;
  for (const p of to.packets.slice(before)) {
    if (p.payloadType !== 0) continue;
    let sum = 0;
    for (const b of p.payload) sum += ulawToLinear(b) ** 2;
    loudest = Math.max(loudest, Math.sqrt(sum / p.payload.length));
  }
  return loudest;
}

const callId = (m: SipText) => m.header("call-id");

/** The callee's side of each leg: rings, answers with SDP, hangs up; one tag per dialog. */
function calleeOf(peer: RawPeer, mediaPort: number) {
  const tags = new Map<string, string>();
  const tagOf = (m: SipText) => {
    const id = callId(m) ?? "";
    if (!tags.has(id)) tags.set(id, randomBytes(4).toString("hex"));
    return tags.get(id) as string;
  };
  const send = (text: string) => peer.send(text);
  const response = (rq: SipText, status: string, sdp = ""): string => {
    const head = reply(rq, status)
      .split("\r\n")
      .filter((l) => l && !l.startsWith("Content-Length"))
      .map((l) => (l.startsWith("To: ") && !/;tag=/.test(l) ? `${l};tag=${tagOf(rq)}` : l));
    return [
      ...head,
      `Contact: <sip:callee@${peer.address}:${peer.port}>`,
      ...(sdp ? ["Content-Type: application/sdp"] : []),
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      "",
      sdp,
    ].join("\r\n");
  };
  return {
    response,
    /** How many dialogs the gateway opened with the callee. */
    invites: () => tags.size,
    /** The next new INVITE (a retransmission of one already taken is not one). */
    async invited() {
      const invite = await bounded(
        peer.next((m) => m.method === "INVITE" && !tags.has(callId(m) ?? ""), BOUND_MS),
        "an INVITE",
      );
      tagOf(invite);
      return invite;
    },
    ring: (invite: SipText) => send(response(invite, "180 Ringing")),
    async answer(invite: SipText) {
      const sdp = [
        "v=0",
        `o=callee 1 1 IN IP4 ${peer.address}`,
        "s=-",
        `c=IN IP4 ${peer.address}`,
        "t=0 0",
        `m=audio ${mediaPort} RTP/AVP 0`,
        "a=rtpmap:0 PCMU/8000",
        "",
      ].join("\r\n");
      send(response(invite, "200 OK", sdp));
      await bounded(
        peer.next((m) => m.method === "ACK" && callId(m) === callId(invite), BOUND_MS),
        "the gateway's ACK",
      );
    },
    hangUp(invite: SipText) {
      const contact = /<([^>]+)>/.exec(invite.header("contact") ?? "")?.[1] ?? "";
      const to = invite.header("to") ?? "";
      send(
        request(peer, "BYE", contact, {
          callId: callId(invite) ?? "",
          cseq: 1,
          from: `${to};tag=${tagOf(invite)}`,
          to: invite.header("from") ?? "",
        }),
      );
    },
  };
}

const bounded = <T>(p: Promise<T>, what: string, ms = BOUND_MS) => boundedBy(p, what, ms);
