// The log lines of `switchboard up`, parsed as pino JSON: every line names the component that
// wrote it, a call's end is one info line with its facts, and a refused call is a warning that
// carries its error as an object.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";

type LogLine = Record<string, unknown> & { level: number; msg: string };

describe("switchboard up's logs", () => {
  it("name their component, end each call with one info line, and warn of a refused call", async () => {
    const data = await mkdtemp(join(tmpdir(), "sb-logs-"));
    try {
      // Only ie1 runs: us1, where unrouted numbers go, has no stream, so their calls are refused.
      await using up = startCli(
        ["up", "--nats-port", "-1", "--port", "0", "--data", data, "--regions", "ie1", "--no-demo"],
        { LOG_LEVEL: "info", NATS_URL: "" },
      );
      await up.waitForLog("ready");
      const lines = () =>
        up
          .output()
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as LogLine);
      const nats = String(lines().find((l) => l.msg === "nats-server started")?.url);
      const number = "+15551237001";
      expect((await runCli(["numbers", "route", number, "ie1", "--nats", nats])).code).toBe(0);
      const failed = await runCli([
        "call",
        "--to",
        number,
        "--from",
        "+15557654321",
        "--json",
        "--nats",
        nats,
      ]);
      const sid = (JSON.parse(failed.stdout) as { sid: string }).sid;
      await up.waitForLine(new RegExp(`"callSid":"${sid}".*"msg":"call ended"`));
      const ends = lines().filter((l) => l.msg === "call ended" && l.callSid === sid);
      expect(ends).toEqual([
        expect.objectContaining({
          level: 30,
          component: "region",
          region: "ie1",
          callSid: sid,
          status: "failed",
          duration: null,
          errorCode: 90004,
        }),
      ]);

      const refused = await runCli([
        "call",
        "--to",
        "+15551237002",
        "--from",
        "+15557654321",
        "--nats",
        nats,
      ]);
      expect(refused.stderr).toMatch(/^error 90003: /);
      const warning = JSON.parse(await up.waitForLine(/"msg":"offer refused"/)) as LogLine;
      expect(warning).toMatchObject({
        level: 40,
        component: "edge",
        edge: "ashburn",
        err: { type: "SwitchboardError", code: 90003 },
      });
      expect((warning.err as { message: string }).message).toMatch(/region us1 did not store the call/);

      // Every line says which part of switchboard wrote it.
      expect(lines().every((l) => typeof l.component === "string")).toBe(true);
      expect([...new Set(lines().map((l) => l.component))].sort()).toEqual([
        "edge",
        "nats-server",
        "region",
        "up",
      ]);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
