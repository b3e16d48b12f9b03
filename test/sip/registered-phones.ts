// Registered phones for the registrar's tests: the gateway's digest users (alice, bob at REALM), a
// raw REGISTER answered with their password, an app that dials a user at the realm, and a raw
// phone's 200 with its SDP answer.
import { createHash, randomBytes } from "node:crypto";
import { SipUsers } from "../../src/sip/sip-users.js";
import { authorization, parseChallenge } from "../../src/sip/ua/digest.js";
import type { TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { type RawPeer, rawPeer, reply, request, type SipText, sdpOffer } from "./raw-sip.js";

export const REALM = "sip.example.com";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");
export const users = () =>
  SipUsers.parse(
    `alice:${REALM}:${md5(`alice:${REALM}:Correct1Horse`)}\nbob:${REALM}:${md5(`bob:${REALM}:Battery2Staple`)}\n`,
  );

/** REGISTERs as `user` (answering the 401 with `password`); resolves with the final response. */
export async function registerAs(
  peer: RawPeer,
  port: number,
  opts: { user: string; password: string; to?: string; contact?: string; headers?: string[] },
): Promise<SipText> {
  const uri = `sip:127.0.0.1:${port}`;
  const callId = randomBytes(6).toString("hex");
  const to = `<sip:${opts.to ?? opts.user}@${REALM}>`;
  const from = `${to};tag=${randomBytes(3).toString("hex")}`;
  const send = (cseq: number, extra: string[]) =>
    peer.send(
      request(peer, "REGISTER", uri, {
        callId,
        cseq,
        from,
        to,
        ...(opts.contact !== undefined && { contact: opts.contact }),
        headers: [...(opts.headers ?? []), ...extra],
      }),
    );
  const final = (cseq: number) => (m: SipText) =>
    (m.status ?? 0) >= 200 && m.header("CSeq") === `${cseq} REGISTER`;
  send(1, []);
  const challenged = await peer.next(final(1));
  if (challenged.status !== 401) return challenged;
  const challenge = parseChallenge(challenged.header("WWW-Authenticate") ?? "");
  if (!challenge) throw new Error("a 401 without a digest challenge");
  const answer = authorization(challenge, { username: opts.user, password: opts.password }, "REGISTER", uri);
  send(2, [`Authorization: ${answer}`]);
  return peer.next(final(2));
}

/**
 * An app on `number` that dials `user` at the realm (ringing 10 s, a 3 s limit unless given) and
 * hangs up after.
 */
export async function dialingApp(
  engine: TestEngine,
  number: string,
  user: string,
  dial: { timeout?: number; timeLimit?: number } = {},
): Promise<TwilioApp> {
  const app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/dialed", timeout: 10, timeLimit: 3, ...dial }).sip(`sip:${user}@${REALM}`);
      return { body: r.toString() };
    },
    "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
  });
  try {
    await engine.addNumber({ number, voiceUrl: `${app.url}/voice` });
    return app;
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** A phone's 200 to `invite`: its tag, its `contact`, and an SDP answer with its media at `address`. */
export function answer(invite: SipText, contact: string, rtpPort: number, address = "127.0.0.2"): string {
  const body = sdpOffer(address, rtpPort);
  const head = reply(invite, "200 OK").replace(/\r\nContent-Length: 0\r\n\r\n$/, "");
  return [
    head.replace(/\r\nTo: ([^\r]*)/, "\r\nTo: $1;tag=phone"),
    `Contact: <${contact}>`,
    "Content-Type: application/sdp",
    `Content-Length: ${body.length}`,
    "",
    body,
  ].join("\r\n");
}

/** Two raw phones, `a` on 127.0.0.2 and `b` on 127.0.0.3, both registered as alice; disposing closes both. */
export async function alicesPhones(
  gatewayPort: number,
): Promise<{ a: RawPeer; b: RawPeer; contactOf(peer: RawPeer): string } & AsyncDisposable> {
  const a = await rawPeer("127.0.0.2", gatewayPort);
  let b: RawPeer | undefined;
  try {
    b = await rawPeer("127.0.0.3", gatewayPort);
    const contactOf = (peer: RawPeer) => `sip:alice@${peer.address}:${peer.port}`;
    for (const peer of [a, b]) {
      const ok = await registerAs(peer, gatewayPort, {
        user: "alice",
        password: "Correct1Horse",
        contact: contactOf(peer),
      });
      if (ok.status !== 200)
        throw new Error(`alice's phone at ${peer.address} was not registered: ${ok.start}`);
    }
    const both = b;
    return {
      a,
      b,
      contactOf,
      [Symbol.asyncDispose]: async () =>
        void (await Promise.all([a, both].map((p) => p[Symbol.asyncDispose]()))),
    };
  } catch (err) {
    await Promise.all([a, b].map((p) => p?.[Symbol.asyncDispose]()));
    throw err;
  }
}
