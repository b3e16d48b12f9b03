// `switchboard sip` as its own process (DESIGN.md §2): logs `ready`, carries a real call from sipp,
// stops on SIGTERM (within a grace, whatever its phones do), and refuses to start on a SIP port it cannot have.
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { STOP_GRACE_MS } from "../../src/sip/end-calls.js";
import { startCli } from "../helpers/cli.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { freeSipPort, pausingNumber, phoneRtp, sipp, startSipProcess } from "./harness.js";
import { rawPeer, request, sdpOffer } from "./raw-sip.js";

describe("switchboard sip", () => {
  it("serves SIP calls for its edge until SIGTERM", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => ({ body: new VoiceResponse().say("Hi").toString() }),
    });
    await engine.addNumber({ number: "+15551230008", voiceUrl: `${app.url}/voice` });
    const started = await startSipProcess(engine.nats.url, ["--allow", "127.0.0.2/32,127.0.0.3"]);
    await using gateway = started.process;
    const port = started.sipPort;
    await gateway.waitForLog("ready");
    await using phone = await phoneRtp();
    const result = await sipp(port, "short.xml", { to: "+15551230008", keys: { rtpport: phone.port } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // It answered, and sent the prompt over RTP.
    expect(phone.packets.length).toBeGreaterThan(0);
    expect(await gateway.stop()).toBe(0);
  });

  it("ends the call as a caller hang-up when its gateway dies mid-prompt", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("This announcement is long enough that the gateway will be gone before it ends. ".repeat(4));
        r.hangup();
        return { body: r.toString() };
      },
      "/status": () => ({ body: "" }),
    });
    await engine.addNumber({
      number: "+15551230012",
      voiceUrl: `${app.url}/voice`,
      statusCallback: `${app.url}/status`,
    });
    const port = await freeSipPort("127.0.0.1");
    await using gateway = startCli([
      "sip",
      "--edge",
      "ashburn",
      "--listen",
      `127.0.0.1:${port}`,
      "--nats",
      engine.nats.url,
    ]);
    await gateway.waitForLog("ready");
    await using phone = await phoneRtp();
    const caller = sipp(port, "short.xml", {
      to: "+15551230012",
      keys: { rtpport: phone.port },
      timeoutS: 12,
    });
    await gateway.waitForLog("SIP call offered");
    // Answered and half a second into the prompt.
    await phone.waitForPackets(25);
    gateway.child.kill("SIGKILL");
    const killedAt = Date.now();
    // The region's channel pings the gateway every 5 s: no responders ends the call.
    const status = await app.waitFor((r) => r.path === "/status", 15_000);
    expect(status.params.CallStatus).toBe("completed");
    expect(Date.now() - killedAt).toBeLessThan(8_000);
    // sipp never gets its BYE: it gives up at its timeout.
    expect((await caller).code).not.toBe(0);
  });

  it("stops within its grace when a phone no longer answers the BYE that ends its call", {
    timeout: 60_000,
  }, async () => {
    await using engine = await startTestEngine();
    // Answered (a Say first), then a pause the gateway's stop cuts short.
    await using app = await pausingNumber(engine, "+15551230019", 30, { statusCallback: true });
    const started = await startSipProcess(engine.nats.url);
    await using gateway = started.process;
    await gateway.waitForLog("ready");
    const uri = `sip:+15551230019@127.0.0.1:${started.sipPort}`;
    const from = `<sip:15557654321@127.0.0.2>;tag=gone`;
    {
      // The phone answers the call set-up, then goes silent: its socket closes, the BYE goes nowhere.
      await using phone = await rawPeer("127.0.0.2", started.sipPort);
      phone.send(
        request(phone, "INVITE", uri, { callId: "gone-phone", from, body: sdpOffer("127.0.0.2", 4000) }),
      );
      const ok = await phone.next((m) => (m.status ?? 0) >= 200, 10_000);
      expect(ok.status).toBe(200);
      phone.send(request(phone, "ACK", uri, { callId: "gone-phone", from, to: ok.header("to") }));
      await app.waitFor((r) => r.path === "/voice", 10_000);
    }
    const stoppedAt = Date.now();
    expect(await gateway.stop()).toBe(0);
    // A BYE is re-sent for 32 s (Timer F) before it is given up: stopping does not wait that long.
    expect(Date.now() - stoppedAt).toBeLessThan(STOP_GRACE_MS + 4_000);
    const warning = await gateway.waitForLog("stopped before every ended call's BYE was answered");
    expect(warning.calls).toEqual([expect.stringMatching(/^CA[0-9a-f]{32}$/)]);
    // The call itself ended at once, as a hang-up.
    const status = await app.waitFor((r) => r.path === "/status", 10_000);
    expect(status.params.CallStatus).toBe("completed");
  });

  it("exits non-zero with a one-line reason when its SIP port is taken", { timeout: 30_000 }, async () => {
    await using engine = await startTestEngine({ worker: false });
    const taken = createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
    try {
      await using gateway = startCli([
        "sip",
        "--edge",
        "ashburn",
        "--listen",
        `127.0.0.1:${taken.address().port}`,
        "--nats",
        engine.nats.url,
      ]);
      expect(await gateway.exited).toBe(1);
      expect(gateway.output()).toMatch(/cannot listen for SIP on 127\.0\.0\.1:\d+/);
    } finally {
      taken.close();
    }
  });

  it("refuses an unknown --tts engine, from the flag or $SWITCHBOARD_SIP_TTS, before it starts", {
    timeout: 30_000,
  }, async () => {
    for (const [args, env] of [
      [["--tts", "polly"], {}],
      [[], { SWITCHBOARD_SIP_TTS: "polly" }],
    ] as const) {
      await using gateway = startCli(["sip", "--edge", "ashburn", ...args], env);
      // A usage error (2), said on one line before anything starts (the next one points to --help).
      expect(await gateway.exited).toBe(2);
      const [reason, hint] = gateway.output().trim().split("\n");
      expect(reason).toMatch(
        /^error: option '--tts <engine>' .*'polly'.* is invalid\. --tts: "polly" is not espeak-ng, command:PROGRAM or an http\(s\) URL$/,
      );
      expect(hint).toMatch(/--help/);
    }
  });

  it("refuses a --realm-account that is not REALM=AC and 32 lower-case hex digits, before it starts", {
    timeout: 30_000,
  }, async () => {
    for (const value of [
      "sip.example.com",
      `sip.example.com=AC${"A".repeat(32)}`,
      `=AC${"a".repeat(32)}`,
      "a=b=c",
    ]) {
      await using gateway = startCli(["sip", "--edge", "ashburn", "--realm-account", value]);
      expect(await gateway.exited).toBe(2);
      expect(gateway.output()).toMatch(
        /--realm-account <realm=AC…>.* is invalid\. must be REALM=AC followed by 32 lower-case hex digits/,
      );
    }
  });

  it("refuses --ping-phones that is not 0 or 5 to 3600 whole seconds, before it starts", {
    timeout: 30_000,
  }, async () => {
    for (const value of ["2", "1.5", "3601", "soon"]) {
      await using gateway = startCli(["sip", "--edge", "ashburn", "--ping-phones", value]);
      expect(await gateway.exited).toBe(2);
      expect(gateway.output()).toMatch(
        /--ping-phones <seconds>.* is invalid\. must be 0 \(never\) or whole seconds from 5 to 3600/,
      );
    }
  });
});
