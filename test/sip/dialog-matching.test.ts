// Which requests are a call's own (RFC 3261 §12.2.2, §9.2, §8.2.2.2, §15): a request that carries a
// live call's Call-ID but another dialog's tags is refused (481) and leaves the call up, a second
// INVITE of the same call by another path is 482, a new offer before the answer is 500 with a
// Retry-After (RFC 3311 §5.2), and a caller's BYE before the answer ends the INVITE with 487. And a carrier's Request-URI with number-portability parameters (RFC 4694) and
// visual separators still reaches the number. Raw SIP from 127.0.0.2 to a real gateway and engine.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startTestEngine } from "../helpers/engine.js";
import { setUp } from "../helpers/teardown.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startGateway } from "./harness.js";
import { type RawPeer, rawPeer, request, type SipText, sdpOffer } from "./raw-sip.js";

const ANSWERS = "+15551230101";
const RINGS = "+15551230102";

/** One INVITE's dialog as the raw caller keeps it: its Call-ID, its From, the INVITE's branch. */
function caller(peer: RawPeer, uri: string) {
  const callId = randomBytes(8).toString("hex");
  const from = `<sip:15557654321@${peer.address}:${peer.port}>;tag=${randomBytes(4).toString("hex")}`;
  const branch = `z9hG4bK${randomBytes(6).toString("hex")}`;
  const invite = request(peer, "INVITE", uri, { callId, from, branch, body: sdpOffer(peer.address, 4000) });
  /** An in-dialog request with the given To (the gateway's tag, another, or none). */
  const inDialog = (method: string, to: string, cseq: number, opts: { from?: string } = {}) =>
    request(peer, method, uri, { callId, from: opts.from ?? from, to, cseq });
  return { callId, from, branch, invite, inDialog };
}

const isFinal = (m: SipText) => (m.status ?? 0) >= 200;

/** The app of ANSWERS: answered at once, then a Gather that listens for 30 s. */
async function answeringApp(engine: Awaited<ReturnType<typeof startTestEngine>>) {
  const app = await startTwilioApp(engine.authToken, {
    "/answers": () => {
      const r = new VoiceResponse();
      r.gather({ timeout: 30, numDigits: 1 });
      return { body: r.toString() };
    },
  });
  try {
    await engine.addNumber({ number: ANSWERS, voiceUrl: `${app.url}/answers` });
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}
const toOf = (m: SipText) => m.header("To") ?? "";

/** A call to ANSWERS at `uriOf(the gateway's port)`, answered (200, ACK) and listening in its Gather. */
function answeredCall(uriOf: (sipPort: number) => string) {
  return setUp(async (t) => {
    const engine = t.use(await startTestEngine());
    const app = t.use(await answeringApp(engine));
    const gw = t.use(await startGateway(engine));
    const peer = t.use(await rawPeer("127.0.0.2", gw.sipPort));
    const call = caller(peer, uriOf(gw.sipPort));
    peer.send(call.invite);
    const ok = await peer.next(isFinal, 15_000);
    expect(ok.status).toBe(200);
    const voice = await app.waitFor((r) => r.path === "/answers");
    const to = toOf(ok);
    peer.send(call.inDialog("ACK", to, 1));
    return { gw, peer, call, to, voice, [Symbol.asyncDispose]: () => t.stop() };
  });
}

describe("a call's own SIP requests", () => {
  it("reaches a number dialled with number-portability parameters and separators", {
    timeout: 60_000,
  }, async () => {
    // As a US carrier sends it after a number-portability lookup, with separators in the number.
    await using c = await answeredCall(
      (port) => `sip:+1-555-123-0101;npdi;rn=+15550000000@127.0.0.1:${port};user=phone`,
    );
    expect(c.voice.params.To).toBe(ANSWERS);
    c.peer.send(c.call.inDialog("BYE", c.to, 2));
    expect((await c.peer.next(isFinal)).status).toBe(200);
  });

  it("refuses another dialog's BYE with 481 and keeps the call; takes its own", {
    timeout: 60_000,
  }, async () => {
    await using c = await answeredCall((port) => `sip:${ANSWERS}@127.0.0.1:${port}`);
    const { peer, call, to } = c;
    const refusedBy = async (text: string) => {
      peer.send(text);
      return (await peer.next((m) => isFinal(m) && m.header("CSeq")?.includes("BYE") === true)).status;
    };
    const untagged = to.replace(/;tag=[^;>]+/, "");
    expect(await refusedBy(call.inDialog("BYE", `${untagged};tag=notours`, 2))).toBe(481);
    expect(await refusedBy(call.inDialog("BYE", untagged, 3))).toBe(481);
    const stranger = `<sip:15557654321@127.0.0.2>;tag=${randomBytes(4).toString("hex")}`;
    expect(await refusedBy(call.inDialog("BYE", to, 4, { from: stranger }))).toBe(481);
    // The call is still up: its Gather still listens (no action came, and the gateway sent no BYE).
    expect(c.gw.calls.size).toBe(1);
    expect(await refusedBy(call.inDialog("BYE", to, 5))).toBe(200);
  });

  it("answers a ringing call's second INVITE 482 and its UPDATE 500, and ends its INVITE 487 on its BYE", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      // A first Pause holds the answer off: the caller rings for 30 s.
      "/rings": () => ({ body: new VoiceResponse().pause({ length: 30 }).toString() }),
    });
    await engine.addNumber({ number: RINGS, voiceUrl: `${app.url}/rings` });
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    const call = caller(peer, `sip:${RINGS}@127.0.0.1:${gw.sipPort}`);
    peer.send(call.invite);
    const ringing = await peer.next((m) => m.status === 180 || m.status === 183, 15_000);
    const to = toOf(ringing);
    expect(to).toMatch(/;tag=/);

    // The same INVITE by another path (a new branch, no To-tag): a merged request, §8.2.2.2.
    peer.send(
      request(peer, "INVITE", `sip:${RINGS}@127.0.0.1:${gw.sipPort}`, {
        callId: call.callId,
        from: call.from,
        body: sdpOffer(peer.address, 4000),
      }),
    );
    const merged = await peer.next((m) => isFinal(m) && m.header("Via")?.includes(call.branch) === false);
    expect(merged.status).toBe(482);
    expect(gw.calls.size).toBe(1);

    // A new offer before the answer (RFC 3311 §5.2): 500 with a Retry-After, the call still rings.
    peer.send(
      request(peer, "UPDATE", `sip:${RINGS}@127.0.0.1:${gw.sipPort}`, {
        callId: call.callId,
        from: call.from,
        to,
        cseq: 2,
        body: sdpOffer(peer.address, 4002),
      }),
    );
    const update = await peer.next((m) => isFinal(m) && m.header("CSeq")?.includes("UPDATE") === true);
    expect(update.status).toBe(500);
    expect(Number(update.header("Retry-After"))).toBeLessThanOrEqual(10);
    expect(gw.calls.size).toBe(1);

    peer.send(call.inDialog("BYE", to, 3));
    const [bye, invite] = await Promise.all([
      peer.next((m) => isFinal(m) && m.header("CSeq")?.includes("BYE") === true),
      // Our INVITE's (its branch): the 482 above is re-sent until ACKed, and must not be taken for it.
      peer.next((m) => isFinal(m) && m.header("Via")?.includes(call.branch) === true),
    ]);
    expect(bye.status).toBe(200);
    expect(invite.status).toBe(487);
  });
});
