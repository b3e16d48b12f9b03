// Restarting `switchboard region`: a worker that stopped cleanly deregistered (its heartbeat was
// deleted), so the next one does not warn that it is gone; one that was killed is still a warning.
import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

const logLines = (output: string) =>
  output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: number; msg: string; worker?: string });

describe("a region worker's restart", () => {
  it("does not report a cleanly stopped worker as gone, and still reports a killed one", async () => {
    await using nats = await startTestNatsServer();
    const region = () =>
      startCli(["region", "--region", "us1", "--nats", nats.url, "--drain", "0"], { LOG_LEVEL: "debug" });

    const first = region();
    await first.waitForLog("ready");
    const code = await first.stop();
    expect(code, first.output()).toBe(0);

    await using second = region();
    // The second worker replays the first one's deleted heartbeat: a clean stop, not a death.
    const seen = await second.waitForLog("worker stopped cleanly; claiming any calls it handed over");
    expect(seen.level).toBe(20);
    expect(logLines(second.output()).filter((l) => l.msg === "worker is gone; claiming its calls")).toEqual(
      [],
    );

    const third = region();
    await third.waitForLog("ready");
    third.child.kill("SIGKILL");
    await third.exited;
    const gone = await second.waitForLog("worker is gone; claiming its calls");
    expect(gone.level).toBe(40);
  });
});
