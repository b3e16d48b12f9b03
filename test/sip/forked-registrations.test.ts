// A user with several registered phones (RFC 3261 §16.7, as Twilio forks a call to all of a user's
// registered devices): <Dial><Sip>sip:alice@realm</Sip> rings every one at once; the first to
// answer takes the call, with its audio checked both ways by content, and the others are cancelled
// as answered elsewhere; when none answers, the Dial reports the best of their responses.
import { describe, expect, it } from "vitest";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { DigestCheck } from "../../src/sip/ua/digest-check.js";
import { bestFailure } from "../../src/sip/ua/forked-invite.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startBaresip } from "./baresip-phone.js";
import { CALLEE_SIGNAL, CALLER_SIGNAL, correlation, pcmOf, signalDir } from "./dial-peers.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";
import { type RawPeer, rawPeer, reply, type SipText } from "./raw-sip.js";
import { alicesPhones, answer, dialingApp, REALM, registerAs, users } from "./registered-phones.js";

const ALICE = { user: "alice", password: "Correct1Horse" };

/** `status` to `invite` from a raw phone, with its To tag (a final one ends the INVITE). */
function respond(peer: RawPeer, invite: SipText, status: string): void {
  peer.send(reply(invite, status).replace(/\r\nTo: ([^\r]*)/, "\r\nTo: $1;tag=desk"));
}

/** A raw phone that rang: the gateway's CANCEL is answered 200, and its INVITE 487 (then ACKed). */
async function cancelled(peer: RawPeer, invite: SipText, timeoutMs = 15_000): Promise<SipText> {
  const cancel = await peer.next((m) => m.method === "CANCEL", timeoutMs);
  peer.send(reply(cancel, "200 OK"));
  respond(peer, invite, "487 Request Terminated");
  await peer.next((m) => m.method === "ACK");
  return cancel;
}

describe("a user with several registered phones", () => {
  it("rings them all; the first to answer takes the call and the others are cancelled as answered elsewhere", {
    timeout: 90_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.dial({ action: "/dialed", timeout: 10 }).sip(`sip:alice@${REALM}`);
        return { body: r.toString() };
      },
      "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await engine.addNumber({ number: "+15551230051", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    // The softphone answers every call, playing the callee's signal.
    const microphone = new Int16Array(CALLEE_SIGNAL.length * 6);
    for (let i = 0; i < 6; i++) microphone.set(CALLEE_SIGNAL, i * CALLEE_SIGNAL.length);
    await using softphone = await startBaresip({
      address: "127.0.0.4",
      account: `<sip:alice@127.0.0.1:${gw.sipPort}>;auth_pass=Correct1Horse;answermode=auto`,
      microphone: wavFromPcm(microphone),
      register: true,
    });
    await softphone.waitFor(/200 OK.*\[1 binding\]/);
    // alice's desk phone registers after it (the newest binding), rings and never answers.
    await using desk = await rawPeer("127.0.0.2", gw.sipPort);
    const contact = `sip:alice@127.0.0.2:${desk.port}`;
    expect((await registerAs(desk, gw.sipPort, { ...ALICE, contact })).status).toBe(200);

    await using phone = await phoneRtp();
    const caller = sipp(gw.sipPort, "dial-caller.xml", {
      to: "+15551230051",
      keys: { rtpport: phone.port },
      cwd: await signalDir(),
    });
    const invite = await desk.next((m) => m.method === "INVITE", 20_000);
    expect(invite.start).toBe(`INVITE ${contact} SIP/2.0`);
    respond(desk, invite, "180 Ringing");
    // The softphone answered: the desk phone stops ringing, told it was answered elsewhere.
    const cancel = await cancelled(desk, invite);
    expect(cancel.header("Reason")).toMatch(/^SIP ;cause=200 ;text="Call completed elsewhere"$/);

    const done = await caller;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const dialed = await app.waitFor((r) => r.path === "/dialed", 30_000);
    expect(dialed.params).toMatchObject({ DialCallStatus: "completed", DialSipResponseCode: "200" });
    await softphone.waitFor(/terminated/);
    // The call is the softphone's: each side heard the other.
    expect(correlation(await softphone.heard(), CALLER_SIGNAL)).toBeGreaterThanOrEqual(0.99);
    expect(correlation(pcmOf(phone.packets), CALLEE_SIGNAL)).toBeGreaterThanOrEqual(0.99);
  });

  it("none answering, the Dial gets the best response: one busy and one rung out is no-answer; a 603 stops the other", {
    timeout: 90_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230052", "alice", { timeout: 2 });
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    await using phones = await alicesPhones(gw.sipPort);
    const { a, b } = phones;
    const dir = await signalDir();

    // a is busy; b rings until the Dial's 2 s are up, then is cancelled (RFC 3326: 487, not elsewhere).
    const first = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230052", cwd: dir });
    const [busy, ringing] = await Promise.all(
      [a, b].map((peer) => peer.next((m) => m.method === "INVITE", 20_000)),
    );
    respond(a, busy as SipText, "486 Busy Here");
    respond(b, ringing as SipText, "180 Ringing");
    const timedOut = await cancelled(b, ringing as SipText);
    expect(timedOut.header("Reason")).toMatch(/cause=487/);
    expect((await first).code).toBe(0);
    expect((await app.waitFor((r) => r.path === "/dialed", 30_000)).params).toMatchObject({
      DialCallStatus: "no-answer",
      DialSipResponseCode: "487",
    });

    // a declines (603): b, still ringing, is cancelled with that cause, and the Dial fails with 603
    // at once, though b never answers the CANCEL (a phone gone quiet does not hold the leg up).
    const seen = new Set([busy, ringing].map((m) => m?.header("Call-ID")));
    const fresh = (m: SipText) => m.method === "INVITE" && !seen.has(m.header("Call-ID"));
    const second = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230052", cwd: dir });
    const [declined, rung] = await Promise.all([a, b].map((peer) => peer.next(fresh, 20_000)));
    respond(b, rung as SipText, "180 Ringing");
    respond(a, declined as SipText, "603 Decline");
    const stopped = await b.next((m) => m.method === "CANCEL");
    expect(stopped.header("Reason")).toMatch(/^SIP ;cause=603 ;text="Decline"$/);
    const dialed = await app.waitFor(
      (r) => r.path === "/dialed" && r.params.DialSipResponseCode === "603",
      10_000,
    );
    expect((await second).code).toBe(0);
    expect(dialed.params).toMatchObject({ DialCallStatus: "failed" });
  });
});

describe("a phone that answers after another did", () => {
  it("is acknowledged and sent BYE at once; the call stays with the first", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230053", "alice");
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    await using phones = await alicesPhones(gw.sipPort);
    const { a, b, contactOf } = phones;
    await using media = await phoneRtp();
    const caller = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230053", cwd: await signalDir() });
    const [first, late] = await Promise.all(
      [a, b].map((peer) => peer.next((m) => m.method === "INVITE", 20_000)),
    );
    a.send(answer(first as SipText, contactOf(a), media.port));
    await a.next((m) => m.method === "ACK");
    // b's 200 crossed the CANCEL that a's answer sent it.
    const cancel = await b.next((m) => m.method === "CANCEL");
    expect(cancel.header("Reason")).toMatch(/cause=200/);
    b.send(reply(cancel, "200 OK"));
    b.send(answer(late as SipText, contactOf(b), media.port, "127.0.0.3"));
    await b.next((m) => m.method === "ACK");
    await b.next((m) => m.method === "BYE");
    // a's call goes on until the Dial's 3 s limit ends it.
    expect(a.received.some((m) => m.method === "BYE")).toBe(false);
    await a.next((m) => m.method === "BYE", 15_000);
    expect((await caller).code).toBe(0);
    // The leg is a's: its Call-ID is the one the Dial's action names.
    expect((await app.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialCallStatus: "completed",
      DialSipCallId: first?.header("Call-ID"),
    });
  });
});

describe("a phone whose answer has no audio the leg can take", () => {
  it("is hung up, and the others ring on: the next to answer takes the call", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230054", "alice");
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    await using phones = await alicesPhones(gw.sipPort);
    const { a, b, contactOf } = phones;
    await using media = await phoneRtp();
    const caller = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230054", cwd: await signalDir() });
    const [g722, good] = await Promise.all(
      [a, b].map((peer) => peer.next((m) => m.method === "INVITE", 20_000)),
    );
    respond(b, good as SipText, "180 Ringing");
    // a answers with G.722 only: acknowledged, then hung up.
    const only722 = answer(g722 as SipText, contactOf(a), media.port)
      .replace(/m=audio (\d+) RTP\/AVP 0 8 101/, "m=audio $1 RTP/AVP 9")
      .replace(/a=rtpmap:(0|8|101) [^\r]*\r\n/g, "");
    a.send(fixLength(only722));
    await a.next((m) => m.method === "ACK");
    await a.next((m) => m.method === "BYE");
    // b was not cancelled: it answers, and the call is its.
    b.send(answer(good as SipText, contactOf(b), media.port, "127.0.0.3"));
    await b.next((m) => m.method === "ACK");
    expect(b.received.some((m) => m.method === "CANCEL")).toBe(false);
    await b.next((m) => m.method === "BYE", 15_000);
    expect((await caller).code).toBe(0);
    expect((await app.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialCallStatus: "completed",
      DialSipCallId: good?.header("Call-ID"),
    });
  });
});

/** A SIP message with its Content-Length set to its body's. */
function fixLength(text: string): string {
  const cut = text.indexOf("\r\n\r\n");
  const body = text.slice(cut + 4);
  return (
    text
      .slice(0, cut)
      .replace(/Content-Length: \d+/, `Content-Length: ${Buffer.byteLength(body, "latin1")}`) +
    text.slice(cut)
  );
}

describe("bestFailure", () => {
  const pick = (...statuses: number[]) => bestFailure(statuses.map((status, i) => ({ status, i }))).i;
  it("takes a 6xx over anything, then the lowest class, a rung-out 487 before a busy 486 before the rest", () => {
    expect(pick(486, 603, 487)).toBe(1);
    expect(pick(503, 480)).toBe(1);
    expect(pick(480, 486)).toBe(1);
    expect(pick(486, 487)).toBe(1);
    expect(pick(404, 480)).toBe(0);
    expect(pick(500)).toBe(0);
  });
});
