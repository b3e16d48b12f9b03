// A trunk's password goes in once (`trunks add`) and never comes out: not in any log line of a whole
// `switchboard up` at trace level while trunks are added, listed, named by a number and read over
// REST by the operator; not in the CLI's output; not in the api's. And a logged trunk is redacted.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { TrunkRecord } from "../../src/model/trunk.js";
import { runCli, startCli } from "../helpers/cli.js";
import { captureLines } from "./capture.js";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const OPERATOR_TOKEN = randomBytes(20).toString("hex");

describe("a trunk's password", () => {
  it("appears in no log line, CLI output or REST answer of a running engine", async () => {
    const data = await mkdtemp(join(tmpdir(), "sb-trunk-"));
    try {
      await using up = startCli(["up", "--nats-port", "-1", "--port", "0", "--data", data, "--no-demo"], {
        LOG_LEVEL: "trace",
        SWITCHBOARD_OPERATOR_TOKEN: OPERATOR_TOKEN,
      });
      const nats = String((await up.waitForLog("nats-server started", 30_000)).url);
      const apiUrl = (await up.waitForLine(/^ready /, 30_000)).slice("ready ".length);
      const sb = (...args: string[]) => runCli([...args, "--nats", nats]);

      const outputs = [
        await sb(
          "trunks",
          "add",
          "carrier",
          "--host",
          "sip.carrier.example",
          "--username",
          "alice",
          "--password",
          PASSWORD,
        ),
        await sb("trunks", "list"),
        await sb("trunks", "list", "--json"),
        await sb(
          "numbers",
          "add",
          "+15551280001",
          "--region",
          "us1",
          "--voice-url",
          "https://app.example.com/v",
          "--trunk",
          "carrier",
        ),
        await sb("trunks", "remove", "carrier"),
      ];
      expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0, 1]);
      expect(outputs[4]?.stderr).toMatch(/trunk carrier is still named by number \+15551280001 \(us1\)/);
      for (const o of outputs) expect(o.stdout + o.stderr).not.toContain(PASSWORD);

      const auth = `Basic ${Buffer.from(`operator:${OPERATOR_TOKEN}`).toString("base64")}`;
      for (const path of ["/v1/Trunks.json", "/v1/Trunks/carrier.json"]) {
        const res = await fetch(`${apiUrl}${path}`, { headers: { authorization: auth } });
        expect(res.status, path).toBe(200);
        const text = await res.text();
        expect(text).toContain('"has_password":true');
        expect(text).not.toContain(PASSWORD);
      }

      await up.stop();
      const lines = up
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"));
      // Trace level: the engine did log (so finding nothing means something), and never the password.
      expect(lines.length).toBeGreaterThan(0);
      expect(up.output()).not.toContain(PASSWORD);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 90_000);

  it("is redacted wherever a logged trunk sits", () => {
    const trunk: TrunkRecord = {
      name: "carrier",
      host: "sip.carrier.example",
      port: 5060,
      transport: "udp",
      username: "alice",
      password: PASSWORD,
      from_domain: null,
      inbound_cidrs: [],
      date_created: "now",
      date_updated: "now",
    };
    const sink = captureLines();
    const log = createLogger("test", "trace", sink.stream);
    log.info(trunk, "top");
    log.info({ trunk }, "one deep");
    log.info({ gateway: { trunks: { carrier: trunk } } }, "three deep");
    expect(sink.raw).toHaveLength(3);
    expect(sink.raw.join("\n")).not.toContain(PASSWORD);
    expect(sink.lines()[1]?.trunk).toMatchObject({ username: "alice", password: "[Redacted]" });
  });
});
