// A region worker dies while a SIP call's <Dial> leg rings or is bridged, and another worker resumes
// the call: its Dial rings again, and the old leg is ended first — cancelled while it rang, hung up
// once answered — with its record final, instead of a callee left ringing or bridged to no one and a
// leg `in-progress` for ever. The callee is a raw SIP peer, so the test sees every request it gets,
// and when.
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { buckets } from "../../src/protocol/subjects.js";
import { bounded as boundedBy } from "../helpers/bounded.js";
import { startTestEngine } from "../helpers/engine.js";
import { snapshotWhere } from "../helpers/snapshots.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";
import { type RawPeer, rawPeer, reply, request, type SipText } from "./raw-sip.js";
import { regionWorker } from "./worker-death.js";

const NUMBER = "+15551230031";
const CALLEE_IP = "127.0.0.3";
const BOUND_MS = 20_000;

describe("a SIP call resumed while its <Dial> leg rang or talked", () => {
  it("bridged: the old leg is hung up (BYE) before the Dial's new INVITE, and ends completed", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("bridged");
    expect(run.endedWith.method).toBe("BYE");
    expect(run.oldLeg).toMatchObject({ status: "completed", direction: "outbound-dial" });
    expect(Number(run.oldLeg.duration)).toBeGreaterThanOrEqual(1);
    expect(run.oldLeg.end_time).not.toBeNull();
  });

  it("ringing: the old leg is cancelled (CANCEL) before the Dial's new INVITE, and ends canceled", {
    timeout: 90_000,
  }, async () => {
    const run = await resumeWhile("ringing");
    expect(run.endedWith.method).toBe("CANCEL");
    expect(run.oldLeg).toMatchObject({ status: "canceled", duration: null });
  });
});

async function resumeWhile(moment: "ringing" | "bridged") {
  await using engine = await startTestEngine({ worker: false });
  await using gw = await startGateway(engine, "gw1");
  await using callee = await rawPeer(CALLEE_IP, gw.sipPort);
  await using calleeRtp = await phoneRtp(CALLEE_IP);
  await using app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/dialed", timeout: 30 }).sip(`sip:callee@${CALLEE_IP}:${callee.port}`);
      return { body: r.toString() };
    },
    "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
  const ua = calleeOf(callee, calleeRtp.port);
  await using a = regionWorker(engine.nats.url);
  await a.waitForLog("ready");
  await using phone = await phoneRtp();
  const caller = sipp(gw.sipPort, "dial-caller-waits.xml", {
    to: NUMBER,
    keys: { rtpport: phone.port },
    timeoutS: 60,
  });

  const first = await ua.invited();
  const parentSid = (await app.waitFor((r) => r.path === "/voice")).params.CallSid ?? "";
  ua.ring(first);
  if (moment === "bridged") await ua.answer(first);
  // The parent's snapshot names the leg (answered, once bridged): all a resumed call knows of it.
  const stored = await bounded(
    snapshotWhere(engine.nc, parentSid, (s) => {
      const leg = s.sb.dialLegs?.[0];
      return leg?.gateway === "gw1" && (moment === "ringing" || leg.answeredAt !== undefined);
    }),
    "a snapshot naming the leg",
  );
  const oldLegSid = stored.sb.dialLegs?.[0]?.sid ?? "";
  await using b = regionWorker(engine.nats.url);
  await b.waitForLog("ready");
  a.child.kill("SIGKILL");
  await a.exited;

  // The resumed Dial's INVITE comes only after the old leg's end reached the callee.
  const endedWith = await bounded(
    callee.next(
      (m) => (m.method === "BYE" || m.method === "CANCEL") && callId(m) === callId(first),
      BOUND_MS,
    ),
    "the old leg's end",
  );
  if (endedWith.method === "CANCEL") {
    callee.send(reply(endedWith, "200 OK"));
    callee.send(ua.response(first, "487 Request Terminated"));
  }
  const second = await ua.invited();
  expect(callId(second)).not.toBe(callId(first));
  expect(second.receivedAt ?? 0).toBeGreaterThan(endedWith.receivedAt ?? Number.POSITIVE_INFINITY);
  ua.ring(second);
  await ua.answer(second);
  // The callee hangs up the new leg: the Dial ends, its action hangs up, and the caller hears the BYE.
  ua.hangUp(second);
  const result = await bounded(caller, "the caller's end", 40_000);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const dialed = await app.waitFor((r) => r.path === "/dialed");
  expect(dialed.params.DialCallStatus).toBe("completed");
  expect(dialed.params.DialCallSid).not.toBe(oldLegSid);

  const calls = await new Kvm(engine.nc).open(buckets.calls("us1"));
  const oldLeg = (await calls.get(oldLegSid))?.json<CallResource>();
  if (!oldLeg) throw new Error(`no record of the old leg ${oldLegSid}`);
  expect(oldLeg.parent_call_sid).toBe(parentSid);
  return { endedWith, oldLeg };
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
