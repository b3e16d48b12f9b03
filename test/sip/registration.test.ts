// The gateway as a registrar for its digest users (RFC 3261 §10.3): REGISTER over raw SIP (401, 200
// with the bindings, 423, another user's address, Contact: *), then a real softphone (baresip) that
// registers and is rung by <Dial><Sip>sip:alice@realm</Sip>, the audio checked both ways by content.
import { createHash, randomBytes } from "node:crypto";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { newSid } from "../../src/model/sid.js";
import { InboundAccess } from "../../src/sip/inbound-access.js";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { SipUsers } from "../../src/sip/sip-users.js";
import { DigestCheck } from "../../src/sip/ua/digest-check.js";
import { RegistrationStore } from "../../src/store/sip-registrations.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { startBaresip } from "./baresip-phone.js";
import { CALLEE_SIGNAL, CALLER_SIGNAL, correlation, pcmOf, signalDir } from "./dial-peers.js";
import { freeSipPort, phoneRtp, sipp, startGateway } from "./harness.js";
import { rawPeer, reply, request } from "./raw-sip.js";
import { answer, dialingApp, REALM, registerAs, users } from "./registered-phones.js";

const ALICE = { user: "alice", password: "Correct1Horse" };

describe("REGISTER", () => {
  it("binds an authenticated user's Contact, for as long as asked within 60 s to an hour", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    // The phone is inside --allow: a registration is authenticated all the same.
    await using gw = await startGateway(engine, "gw1", {
      access: new InboundAccess(["127.0.0.2/32"]),
      digest: new DigestCheck(users()),
    });
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    const contact = `sip:alice@127.0.0.2:${peer.port}`;
    const alice = { user: "alice", password: "Correct1Horse", contact };

    const ok = await registerAs(peer, gw.sipPort, { ...alice, headers: ["Expires: 120"] });
    expect(ok.status).toBe(200);
    expect(ok.header("Contact")).toBe(`<${contact}>;expires=120`);
    // Longer than an hour is cut to it; shorter than a minute is 423 with Min-Expires.
    const long = await registerAs(peer, gw.sipPort, { ...alice, headers: ["Expires: 86400"] });
    expect(long.header("Contact")).toBe(`<${contact}>;expires=3600`);
    const brief = await registerAs(peer, gw.sipPort, { ...alice, headers: ["Expires: 30"] });
    expect(brief.status).toBe(423);
    expect(brief.header("Min-Expires")).toBe("60");

    // Another user's address of record, a wrong password: 403.
    const other = await registerAs(peer, gw.sipPort, { ...alice, to: "bob" });
    expect(other.status).toBe(403);
    expect(other.header("Reason")).toMatch(/alice may register only itself/);
    const wrong = await registerAs(peer, gw.sipPort, { ...alice, password: "Wrong1Password" });
    expect(wrong.status).toBe(403);

    // A registrar says so: REGISTER is among the methods an OPTIONS is told of.
    peer.send(request(peer, "OPTIONS", `sip:127.0.0.1:${gw.sipPort}`));
    const options = await peer.next((m) => m.header("CSeq") === "1 OPTIONS");
    expect(options.header("Allow")).toMatch(/, REGISTER$/);

    // Contact: * with Expires: 0 unbinds everything: no Contact in the 200.
    const gone = await registerAs(peer, gw.sipPort, { ...alice, contact: "*", headers: ["Expires: 0"] });
    expect(gone.status).toBe(200);
    expect(gone.header("Contact")).toBeUndefined();
  });

  it("from an address that answered wrong ten times in a minute is refused a while, right or wrong", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    await using guesser = await rawPeer("127.0.0.2", gw.sipPort);
    for (let i = 0; i < 10; i++) {
      const wrong = await registerAs(guesser, gw.sipPort, { user: "alice", password: `Guess${i}Password` });
      expect(wrong.status).toBe(403);
    }
    // The right password no longer helps from there: refused before it is read, with when to retry.
    const held = await registerAs(guesser, gw.sipPort, { user: "alice", password: "Correct1Horse" });
    expect(held.status).toBe(403);
    expect(held.header("Reason")).toMatch(/Too many wrong answers from 127\.0\.0\.2/);
    expect(Number(held.header("Retry-After"))).toBeGreaterThan(0);
    // Another address is not held back.
    await using phone = await rawPeer("127.0.0.3", gw.sipPort);
    const ok = await registerAs(phone, gw.sipPort, { user: "alice", password: "Correct1Horse" });
    expect(ok.status).toBe(200);
  });

  it("is 405 on a gateway without digest users, as before", { timeout: 30_000 }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    await using peer = await rawPeer("127.0.0.2", gw.sipPort);
    const refused = await registerAs(peer, gw.sipPort, { user: "alice", password: "Correct1Horse" });
    expect(refused.status).toBe(405);
    expect(refused.header("Allow")).not.toMatch(/REGISTER/);
  });
});

describe("a registered softphone", () => {
  it("is rung by <Dial><Sip>sip:user@realm</Sip>, and talks both ways; an unregistered user is 480", {
    timeout: 90_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": (rq) => {
        const r = new VoiceResponse();
        const who = rq.params.To === "+15551230041" ? "alice" : "bob";
        r.dial({ action: "/dialed", timeout: 10 }).sip(`sip:${who}@${REALM}`);
        return { body: r.toString() };
      },
      "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await engine.addNumber({ number: "+15551230041", voiceUrl: `${app.url}/voice` });
    await engine.addNumber({ number: "+15551230042", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    // alice's phone plays the callee's signal over and over, and answers every call.
    const microphone = new Int16Array(CALLEE_SIGNAL.length * 6);
    for (let i = 0; i < 6; i++) microphone.set(CALLEE_SIGNAL, i * CALLEE_SIGNAL.length);
    await using alice = await startBaresip({
      address: "127.0.0.4",
      account: `<sip:alice@127.0.0.1:${gw.sipPort}>;auth_pass=Correct1Horse;answermode=auto`,
      microphone: wavFromPcm(microphone),
      register: true,
    });
    // baresip says so when the registrar's 200 lists its binding.
    await alice.waitFor(/200 OK.*\[1 binding\]/);

    const dir = await signalDir();
    await using phone = await phoneRtp();
    const caller = await sipp(gw.sipPort, "dial-caller.xml", {
      to: "+15551230041",
      keys: { rtpport: phone.port },
      cwd: dir,
    });
    expect(caller.code, caller.stdout + caller.stderr).toBe(0);
    const dialed = await app.waitFor((r) => r.path === "/dialed", 30_000);
    expect(dialed.params).toMatchObject({ DialCallStatus: "completed", DialSipResponseCode: "200" });
    await alice.waitFor(/terminated/);
    // Each heard the other: the caller's signal in the phone's ear, the phone's in the caller's.
    expect(correlation(await alice.heard(), CALLER_SIGNAL)).toBeGreaterThanOrEqual(0.99);
    expect(correlation(pcmOf(phone.packets), CALLEE_SIGNAL)).toBeGreaterThanOrEqual(0.99);

    // bob has no phone registered: his Dial fails at once with 480 (a user with no bindings).
    const bobCaller = await sipp(gw.sipPort, "dial-caller-waits.xml", {
      to: "+15551230042",
      keys: { rtpport: phone.port },
      cwd: dir,
    });
    expect(bobCaller.code, bobCaller.stdout + bobCaller.stderr).toBe(0);
    const unregistered = await app.waitFor(
      (r) => r.path === "/dialed" && r.params.To === "+15551230042",
      30_000,
    );
    expect(unregistered.params).toMatchObject({ DialSipResponseCode: "480" });
  });

  it("behind NAT, is rung where it registered from, and its ACK and BYE go there too", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230043", "alice");
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    // The phone's Contact is its private address, which only its NAT (127.0.0.2 here) leads to.
    await using natted = await rawPeer("127.0.0.2", gw.sipPort);
    const contact = "sip:alice@192.168.1.10:5060";
    const ok = await registerAs(natted, gw.sipPort, { user: "alice", password: "Correct1Horse", contact });
    // Held to 2 minutes, so the phone refreshes its NAT mapping.
    expect(ok.header("Contact")).toBe(`<${contact}>;expires=120`);
    await using media = await phoneRtp();
    const caller = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230043", cwd: await signalDir() });
    const invite = await natted.next((m) => m.method === "INVITE", 20_000);
    expect(invite.start).toBe(`INVITE ${contact} SIP/2.0`);
    expect(invite.header("To")).toBe(`<sip:alice@${REALM}>`);
    natted.send(answer(invite, contact, media.port));
    await natted.next((m) => m.method === "ACK");
    // The Dial's time limit ends the leg: its BYE comes here too.
    await natted.next((m) => m.method === "BYE", 15_000);
    expect((await caller).code).toBe(0);
    expect((await app.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialCallStatus: "completed",
    });
  });

  it("is rung by its gateway restarted under the same id, without registering again; not if its password changed", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230045", "alice");
    await using bobApp = await dialingApp(engine, "+15551230046", "bob");
    const log = pino({ level: "silent" });
    // The gateway's address is the registrar's: it starts again where it was.
    const port = await freeSipPort("127.0.0.1");
    await using phone = await rawPeer("127.0.0.2", port);
    await using bobs = await rawPeer("127.0.0.3", port);
    const contact = `sip:alice@127.0.0.2:${phone.port}`;
    {
      const registrationStore = await RegistrationStore.open(engine.nc, "gw1", log);
      await using _ = await startGateway(engine, "gw1", {
        digest: new DigestCheck(users()),
        registrationStore,
        port,
      });
      expect((await registerAs(phone, port, { ...ALICE, contact })).status).toBe(200);
      expect((await registerAs(bobs, port, { user: "bob", password: "Battery2Staple" })).status).toBe(200);
    }
    // A new process: its own store, the same id; the phone does not know it restarted. bob's
    // password was changed while it was down: his old phone's binding is not taken back.
    const md5 = (text: string) => createHash("md5").update(text).digest("hex");
    const changed = SipUsers.parse(
      `alice:${REALM}:${md5(`alice:${REALM}:Correct1Horse`)}\nbob:${REALM}:${md5(`bob:${REALM}:New3Password`)}\n`,
    );
    const registrationStore = await RegistrationStore.open(engine.nc, "gw1", log);
    await using gw = await startGateway(engine, "gw1", {
      digest: new DigestCheck(changed),
      registrationStore,
      port,
    });
    const toBob = await sipp(gw.sipPort, "dial-caller-waits.xml", {
      to: "+15551230046",
      cwd: await signalDir(),
    });
    expect(toBob.code).toBe(0);
    expect((await bobApp.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialSipResponseCode: "480",
    });
    expect(bobs.received.some((m) => m.method === "INVITE")).toBe(false);
    await using media = await phoneRtp();
    const caller = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230045", cwd: await signalDir() });
    const invite = await phone.next((m) => m.method === "INVITE", 20_000);
    expect(invite.start).toBe(`INVITE ${contact} SIP/2.0`);
    phone.send(answer(invite, contact, media.port));
    await phone.next((m) => m.method === "ACK");
    await phone.next((m) => m.method === "BYE", 15_000);
    expect((await caller).code).toBe(0);
    expect((await app.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialCallStatus: "completed",
    });
  });

  it("over TCP, is unbound when its connection closes: a call to it is 480 at once", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await dialingApp(engine, "+15551230044", "alice");
    await using gw = await startGateway(engine, "gw1", { digest: new DigestCheck(users()) });
    {
      await using tcp = await rawPeer("127.0.0.2", gw.sipPort, "TCP");
      const ok = await registerAs(tcp, gw.sipPort, { user: "alice", password: "Correct1Horse" });
      expect(ok.status).toBe(200);
    }
    const caller = await sipp(gw.sipPort, "dial-caller-waits.xml", {
      to: "+15551230044",
      cwd: await signalDir(),
    });
    expect(caller.code, caller.stdout + caller.stderr).toBe(0);
    expect((await app.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialSipResponseCode: "480",
    });
  });
});

describe("a realm that belongs to an account (--realm-account)", () => {
  it("has its users rung by that account's calls only: another's Dial is 403 (32214) and sends no INVITE", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    const other = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    await addAccount(engine.global, other);
    await using own = await dialingApp(engine, "+15551230071", "alice");
    await using theirs = await startTwilioApp(other.token, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.dial({ action: "/dialed", timeout: 10 }).sip(`sip:alice@${REALM}`);
        return { body: r.toString() };
      },
      "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await addNumber(engine.nc, engine.global, {
      number: "+15551230072",
      region: "us1",
      voiceUrl: `${theirs.url}/voice`,
      accountSid: other.sid,
    });
    await using gw = await startGateway(engine, "gw1", {
      digest: new DigestCheck(users()),
      realmAccounts: new Map([[REALM, engine.accountSid]]),
    });
    await using phone = await rawPeer("127.0.0.2", gw.sipPort);
    expect((await registerAs(phone, gw.sipPort, { ...ALICE })).status).toBe(200);
    const dir = await signalDir();

    const refused = await sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230072", cwd: dir });
    expect(refused.code).toBe(0);
    expect((await theirs.waitFor((r) => r.path === "/dialed")).params).toMatchObject({
      DialCallStatus: "failed",
      DialSipResponseCode: "403",
    });
    expect(phone.received.some((m) => m.method === "INVITE")).toBe(false);

    // The realm's own account rings it.
    const rung = sipp(gw.sipPort, "dial-caller-waits.xml", { to: "+15551230071", cwd: dir });
    const invite = await phone.next((m) => m.method === "INVITE", 20_000);
    phone.send(reply(invite, "486 Busy Here").replace(/\r\nTo: ([^\r]*)/, "\r\nTo: $1;tag=busy"));
    expect((await rung).code).toBe(0);
    expect((await own.waitFor((r) => r.path === "/dialed")).params).toMatchObject({ DialCallStatus: "busy" });
  });
});
