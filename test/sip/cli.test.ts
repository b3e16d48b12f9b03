// `switchboard sip` as its own process (DESIGN.md §2): logs `ready`, carries a real call from sipp,
// stops on SIGTERM, and refuses to start on a SIP port it cannot have.
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { freeUdpPort, phoneRtp, sipp } from "./harness.js";

describe("switchboard sip", () => {
  it("serves SIP calls for its edge until SIGTERM", { timeout: 60_000 }, async () => {
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => ({ body: new VoiceResponse().say("Hi").toString() }),
    });
    await engine.addNumber({ number: "+15551230008", voiceUrl: `${app.url}/voice` });
    const port = await freeUdpPort("127.0.0.1");
    const lo = 20_000 + 2 * Math.floor(Math.random() * 15_000);
    await using gateway = startCli([
      "sip",
      "--edge",
      "ashburn",
      "--listen",
      `127.0.0.1:${port}`,
      "--rtp-ports",
      `${lo}-${lo + 99}`,
      "--nats",
      engine.nats.url,
    ]);
    await gateway.waitForLog("ready");
    await using phone = await phoneRtp();
    const result = await sipp(port, "short.xml", { to: "+15551230008", keys: { rtpport: phone.port } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // It answered, and sent the prompt over RTP.
    expect(phone.packets.length).toBeGreaterThan(0);
    expect(await gateway.stop()).toBe(0);
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
});
