// Callers outside --allow who authenticate by digest (`--digest-users`, RFC 3261 §22.2), with sipp as
// the phone answering the gateway's 401 itself: the right password places a call whose keys and audio
// are the caller's; a wrong one is 403 and no webhook is requested; no users configured is 403 at once.
// `switchboard sip --digest-users FILE` reads an htdigest file, and again on SIGHUP.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { InboundAccess } from "../../src/sip/inbound-access.js";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { SipUsers } from "../../src/sip/sip-users.js";
import { DigestCheck } from "../../src/sip/ua/digest-check.js";
import { runCli, startCli } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { rms, toneHz } from "./audio.js";
import { startBaresip } from "./baresip-phone.js";
import { phoneRtp, SIPP_IP, sipp, startGateway, startSipProcess } from "./harness.js";
import { onlyRecording } from "./recordings.js";

const REALM = "sip.example.com";
const PASSWORD = "Correct1Horse";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const users = () => SipUsers.parse(`alice:${REALM}:${md5(`alice:${REALM}:${PASSWORD}`)}\n`);
/**
 * sipp's answer to a challenge as `user`, signing the Request-URI its scenarios send (sipp adds the
 * `sip:`); by default it signs the gateway's address, which the gateway refuses.
 */
const sippAuth = (port: number, user: string, password: string) => [
  "-au",
  user,
  "-ap",
  password,
  "-auth_uri",
  `15551230031@127.0.0.1:${port}`,
];

/** `seconds` of a pure tone at `hz`, amplitude 8000. */
const tone = (seconds: number, hz: number) =>
  Int16Array.from({ length: seconds * 8000 }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)),
  );
/** sipp's address is outside this list: it must authenticate. */
const ELSEWHERE = ["127.0.0.9/32"];

/** An app that gathers one key and thanks the caller, on +15551230031. */
async function answeringApp(engine: TestEngine): Promise<TwilioApp> {
  const app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.gather({ action: "/gathered", numDigits: 1, timeout: 10 }).say("Press a key");
      return { body: r.toString() };
    },
    "/gathered": () => {
      const r = new VoiceResponse();
      r.say("Thank you");
      r.hangup();
      return { body: r.toString() };
    },
  });
  try {
    await engine.addNumber({ number: "+15551230031", voiceUrl: `${app.url}/voice` });
    return app;
  } catch (err) {
    await app.close();
    throw err;
  }
}

describe("a caller outside --allow with digest users", () => {
  it("is challenged, and with the right password places a call that hears and is heard", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await answeringApp(engine);
    await using gw = await startGateway(engine, "gw1", {
      access: new InboundAccess(ELSEWHERE),
      digest: new DigestCheck(users()),
    });
    await using phone = await phoneRtp();
    const result = await sipp(gw.sipPort, "auth-caller.xml", {
      to: "+15551230031",
      keys: { rtpport: phone.port },
      args: sippAuth(gw.sipPort, "alice", PASSWORD),
    });
    // sipp exits 0 only if the 401, the 200 and the gateway's BYE came as scripted.
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const voice = await app.waitFor((r) => r.path === "/voice");
    expect(voice.params).toMatchObject({ To: "+15551230031", From: "+15557654321", SipSourceIp: SIPP_IP });
    const gathered = await app.waitFor((r) => r.path === "/gathered");
    expect(gathered.params.Digits).toBe("5");
    // What the caller heard: the prompts, not silence.
    const voiced = phone.packets.filter((p) => p.payload.some((b) => b !== 0xff && b !== 0x7f)).length;
    expect(voiced).toBeGreaterThan(20);
  });

  it("is a softphone too (baresip): it authenticates, hears the prompt and is recorded", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("Please speak after the tone");
        r.record({ maxLength: 2, playBeep: false, action: "/recorded" });
        return { body: r.toString() };
      },
      "/recorded": () => ({ body: new VoiceResponse().hangup().toString() }),
    });
    await engine.addNumber({ number: "+15551230032", voiceUrl: `${app.url}/voice` });
    // baresip signals from 127.0.0.4 (outside --allow: challenged), but its RTP socket is not bound
    // to that address, so on loopback its packets come from 127.0.0.1: allowed, as a carrier's media
    // network would be, so that the RTP source check takes them.
    await using gw = await startGateway(engine, "gw1", {
      access: new InboundAccess(["127.0.0.1/32"]),
      digest: new DigestCheck(users()),
    });
    const account = (password: string) => `<sip:alice@127.0.0.1:${gw.sipPort}>;auth_pass=${password}`;
    const to = `sip:+15551230032@127.0.0.1:${gw.sipPort}`;
    {
      await using wrong = await startBaresip({
        address: "127.0.0.5",
        account: account("Wrong1Password"),
        microphone: wavFromPcm(tone(1, 700)),
      });
      await wrong.dial(to);
      await wrong.waitFor(/403 Forbidden/);
      expect(app.requests).toHaveLength(0);
    }
    await using phone = await startBaresip({
      address: "127.0.0.4",
      account: account(PASSWORD),
      microphone: wavFromPcm(tone(20, 700)),
    });
    await phone.dial(to);
    const voice = await app.waitFor((r) => r.path === "/voice");
    expect(voice.params.SipSourceIp).toBe("127.0.0.4");
    await app.waitFor((r) => r.path === "/recorded", 20_000);
    await phone.waitFor(/terminated/);
    // The caller's microphone, in the Recording: its 700 Hz tone.
    const recorded = await onlyRecording(engine.nc);
    expect(Math.abs(toneHz(recorded.subarray(4000)) - 700)).toBeLessThan(15);
    // What it heard: the prompt (speech), not silence.
    expect(rms(await phone.heard())).toBeGreaterThan(300);
  });

  it("with a wrong password gets 403, and no webhook is requested", { timeout: 30_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await answeringApp(engine);
    await using gw = await startGateway(engine, "gw1", {
      access: new InboundAccess(ELSEWHERE),
      digest: new DigestCheck(users()),
    });
    const result = await sipp(gw.sipPort, "auth-refused.xml", {
      to: "+15551230031",
      args: sippAuth(gw.sipPort, "alice", "Wrong1Password"),
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(app.requests).toHaveLength(0);
    expect(gw.calls.size).toBe(0);
  });

  it("without digest users is 403 at once, unchallenged", { timeout: 30_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await answeringApp(engine);
    await using gw = await startGateway(engine, "gw1", { access: new InboundAccess(ELSEWHERE) });
    // The scenario expects 401 first: it fails on the 403.
    const result = await sipp(gw.sipPort, "auth-caller.xml", {
      to: "+15551230031",
      args: sippAuth(gw.sipPort, "alice", PASSWORD),
      timeoutS: 5,
    });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/403 Forbidden/);
    expect(app.requests).toHaveLength(0);
  });
});

/** A users file in a folder of its own, removed when the test ends; `file` is its path. */
async function usersFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-digest-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "users.htdigest");
  await writeFile(file, text);
  return file;
}

describe("switchboard sip --digest-users", () => {
  it("refuses a users file it cannot read, naming the line, before it starts", {
    timeout: 30_000,
  }, async () => {
    const file = await usersFile(
      `alice:${REALM}:${md5(`alice:${REALM}:${PASSWORD}`)}\nbob:${REALM}:secret\n`,
    );
    await using gateway = startCli(["sip", "--edge", "ashburn", "--digest-users", file]);
    expect(await gateway.exited).toBe(2);
    expect(gateway.output().trim().split("\n")[0]).toMatch(
      /^error: option '--digest-users <file>' .* is invalid\. .*users\.htdigest, line 2: the HA1 is not 32 hex digits/,
    );
  });

  it("takes the file's users, and on SIGHUP its new ones: kept when a line breaks, none when it is gone or empty", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    await using app = await answeringApp(engine);
    const file = await usersFile("");
    const users = (...args: string[]) =>
      runCli(["sip-users", ...args, "--file", file, "--realm", REALM], {
        SWITCHBOARD_SIP_PASSWORD: "Battery2Staple",
      });
    expect((await users("add", "alice")).code).toBe(0);
    const started = await startSipProcess(engine.nats.url, [
      "--allow",
      ELSEWHERE[0] as string,
      "--digest-users",
      file,
    ]);
    await using gateway = started.process;
    expect(await gateway.waitForLog("listening")).toMatchObject({ digestUsers: 1 });
    const call = (scenario: string) =>
      sipp(started.sipPort, scenario, {
        to: "+15551230031",
        args: sippAuth(started.sipPort, "bob", "Battery2Staple"),
      });
    // Each reload below reads a count of users the one before it did not.
    const reloaded = async (users: number) => {
      gateway.child.kill("SIGHUP");
      await gateway.waitForLine(new RegExp(`"users":${users}[,}].*"msg":"digest users reloaded"`));
    };

    let result = await call("auth-refused.xml");
    expect(result.code, result.stdout + result.stderr).toBe(0);

    expect((await users("add", "bob")).code).toBe(0);
    await reloaded(2);
    result = await call("auth-caller.xml");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((await app.waitFor((r) => r.path === "/gathered")).params.Digits).toBe("5");

    // A file broken while being edited by hand: the users before it stay.
    const good = await readFile(file, "utf8");
    await writeFile(file, "bob:half-written");
    gateway.child.kill("SIGHUP");
    await gateway.waitForLog("cannot reload the digest users; keeping the ones before");
    result = await call("auth-caller.xml");
    expect(result.code, result.stdout + result.stderr).toBe(0);

    // The file gone (or unreadable): no one is taken, rather than the users from before.
    await rm(file);
    gateway.child.kill("SIGHUP");
    await gateway.waitForLog("cannot read the digest users; admitting no one until it can");
    result = await call("auth-refused.xml");
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/403 Forbidden/);

    // Every user removed: no one is taken any more, not the users from before.
    await writeFile(file, good);
    expect((await users("remove", "bob")).code).toBe(0);
    expect((await users("remove", "alice")).code).toBe(0);
    await reloaded(0);
    result = await call("auth-refused.xml");
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/403 Forbidden/);
    expect(await gateway.stop()).toBe(0);
  });
});

describe("switchboard sip-users", () => {
  it("adds, re-sets, lists and removes users, keeping only their HA1, in a file others cannot read", {
    timeout: 30_000,
  }, async () => {
    const file = await usersFile("# the gateway's callers\n");
    const run = (args: string[], password = "Correct1Horse") =>
      runCli(["sip-users", ...args, "--file", file], { SWITCHBOARD_SIP_PASSWORD: password });
    expect(await run(["add", "alice", "--realm", REALM])).toMatchObject({
      code: 0,
      stdout: `added alice in ${REALM} (${file})\n`,
    });
    expect((await run(["add", "bob", "--realm", "other.example.com"], "Battery2Staple")).code).toBe(0);
    expect((await run(["add", "alice", "--realm", REALM], "Another3Password")).stdout).toMatch(
      /^password set for alice/,
    );
    const text = await readFile(file, "utf8");
    expect(text).toBe(
      `# the gateway's callers\nalice:${REALM}:${md5(`alice:${REALM}:Another3Password`)}\nbob:other.example.com:${md5("bob:other.example.com:Battery2Staple")}\n`,
    );
    expect(text).not.toMatch(/Another3Password|Battery2Staple/);
    // The file was 644 (usersFile's): its group may still read it, others no more.
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    const listed = await run(["list"]);
    expect(listed.stdout).toBe(`alice  ${REALM}\nbob  other.example.com\n`);
    expect(await run(["remove", "bob", "--realm", "other.example.com"])).toMatchObject({ code: 0 });
    expect(await run(["remove", "bob", "--realm", "other.example.com"])).toMatchObject({
      code: 1,
      stderr: `error 20404: ${file} has no user bob in other.example.com\n`,
    });
    expect((await run(["list"])).stdout).toBe(`alice  ${REALM}\n`);
    // A mistyped --file is an error, not "no users".
    const missing = await runCli(["sip-users", "list", "--file", `${file}.typo`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*\.typo/);
  });

  it("refuses a weak password, a bad user name or realm as usage errors, writing nothing", {
    timeout: 30_000,
  }, async () => {
    const file = await usersFile("");
    for (const [args, password, why] of [
      [["add", "alice", "--realm", REALM], "short1A", /at least 12 characters/],
      [["add", "alice", "--realm", REALM], "alllowercase123", /upper-case/],
      [["add", "al:ice", "--realm", REALM], "Correct1Horse", /user name "al:ice"/],
      // A line starting with # is a comment: that user could never authenticate.
      [["add", "#alice", "--realm", REALM], "Correct1Horse", /not starting with '#'/],
      [["add", "alice", "--realm", 'a"b'], "Correct1Horse", /realm "a"b"/],
    ] as const) {
      const result = await runCli(["sip-users", ...args, "--file", file], {
        SWITCHBOARD_SIP_PASSWORD: password,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(why);
    }
    expect(await readFile(file, "utf8")).toBe("");
  });
});
