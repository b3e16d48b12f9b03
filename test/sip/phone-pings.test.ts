// Registered phones pinged with OPTIONS (phone-pings.ts, as Asterisk's qualify): one that stops
// answering is not rung, so its user's callers get the phones that are there at once; it is rung
// again once it answers; with none of a user's phones answering, the Dial is 480 at once. A phone
// that never answered an OPTIONS (some devices ignore them) is rung as without pings.
import { describe, expect, it } from "vitest";
import { DigestCheck } from "../../src/sip/ua/digest-check.js";
import { startTestEngine } from "../helpers/engine.js";
import { logLines } from "../helpers/log-lines.js";
import { signalDir } from "./dial-peers.js";
import { sipp, startGateway } from "./harness.js";
import { type RawPeer, rawPeer, reply, type SipText } from "./raw-sip.js";
import { alicesPhones, dialingApp, registerAs, users } from "./registered-phones.js";

const ALICE = { user: "alice", password: "Correct1Horse" };

describe("registered phones' pings", () => {
  it("leave a phone that stops answering unrung until it answers again; none answering is 480 at once", {
    timeout: 90_000,
  }, async () => {
    await using engine = await startTestEngine();
    // Rings for 20 s: a result sooner than that did not wait for a phone that is not there.
    await using app = await dialingApp(engine, "+15551230061", "alice", { timeout: 20 });
    const logs = logLines();
    await using gw = await startGateway(engine, "gw1", {
      digest: new DigestCheck(users()),
      phonePings: { intervalMs: 500, timeoutMs: 2_000 },
      log: logs.log,
    });
    await using phones = await alicesPhones(gw.sipPort);
    const { a, b, contactOf } = phones;
    a.answersPings = true;
    b.answersPings = true;
    const reachability = (peer: RawPeer, msg: string) => (l: { msg: string; contact?: unknown }) =>
      l.msg === msg && l.contact === contactOf(peer);
    for (const peer of [a, b]) await logs.waitFor(reachability(peer, "SIP phone answers its pings"));
    b.answersPings = false;
    await logs.waitFor(reachability(b, "SIP phone unreachable"));
    const dir = await signalDir();
    const seen = new Set<string | undefined>();
    const fresh = (m: SipText) => m.method === "INVITE" && !seen.has(m.header("Call-ID"));
    const done = new Set<unknown>();
    /** One call to alice: each ringing phone answers 486; resolves with the Dial's action parameters. */
    const call = async (ringing: RawPeer[]) => {
      const caller = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230061", cwd: dir });
      for (const invite of await Promise.all(ringing.map((p) => p.next(fresh, 20_000)))) {
        seen.add(invite.header("Call-ID"));
        const peer = ringing.find((p) => invite.start.includes(`@${p.address}:${p.port} `)) as RawPeer;
        peer.send(reply(invite, "486 Busy Here").replace(/\r\nTo: ([^\r]*)/, "\r\nTo: $1;tag=busy"));
      }
      expect((await caller).code).toBe(0);
      const dialed = await app.waitFor((r) => r.path === "/dialed" && !done.has(r), 15_000);
      done.add(dialed);
      return dialed.params;
    };

    // b does not answer: only a rings, and its 486 is the Dial's at once.
    expect(await call([a])).toMatchObject({ DialCallStatus: "busy", DialSipResponseCode: "486" });
    expect(b.received.some((m) => m.method === "INVITE")).toBe(false);
    expect(logs.lines.some(reachability(a, "SIP phone unreachable"))).toBe(false);

    // b answers again: both ring.
    b.answersPings = true;
    await logs.waitFor(reachability(b, "SIP phone reachable again"));
    expect(await call([a, b])).toMatchObject({ DialCallStatus: "busy" });

    // Neither answers: 480 at once, no INVITE sent.
    const from = logs.lines.length;
    a.answersPings = false;
    b.answersPings = false;
    for (const peer of [a, b])
      await logs.waitFor((l, i) => i >= from && reachability(peer, "SIP phone unreachable")(l));
    expect(await call([])).toMatchObject({ DialSipResponseCode: "480" });
    expect([a, b].some((p) => p.received.some(fresh))).toBe(false);
  });

  it("ring a phone that never answered an OPTIONS, as without pings", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230062", "alice");
    const logs = logLines();
    await using gw = await startGateway(engine, "gw1", {
      digest: new DigestCheck(users()),
      phonePings: { intervalMs: 200, timeoutMs: 400 },
      log: logs.log,
    });
    await using quiet = await rawPeer("127.0.0.2", gw.sipPort);
    const contact = `sip:alice@127.0.0.2:${quiet.port}`;
    expect((await registerAs(quiet, gw.sipPort, { ...ALICE, contact })).status).toBe(200);
    // Pinged, unanswered, more than once.
    for (let i = 0; i < 3; i++) await quiet.next((m) => m.method === "OPTIONS", 5_000);
    const caller = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230062", cwd: await signalDir() });
    const invite = await quiet.next((m) => m.method === "INVITE", 20_000);
    quiet.send(reply(invite, "486 Busy Here").replace(/\r\nTo: ([^\r]*)/, "\r\nTo: $1;tag=busy"));
    expect((await caller).code).toBe(0);
    expect((await app.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialSipResponseCode: "486",
    });
    expect(logs.lines.some((l) => l.msg === "SIP phone unreachable")).toBe(false);
  });
});
