// `switchboard sip` as its own process (DESIGN.md §2): logs `ready`, carries a real call from sipp,
// stops on SIGTERM, and refuses to start on a SIP port it cannot have.
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { freeSipPort, phoneRtp, sipp, startSipProcess } from "./harness.js";

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
});
