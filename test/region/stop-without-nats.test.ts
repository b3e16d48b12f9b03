// A worker whose NATS server is gone still stops when asked (SIGTERM): it cannot hand its calls over,
// but it must not wait for ever for a server that may not come back. Its pulls (calls, status
// callbacks) did not end while disconnected, and stop() waited on them: an operator's `kill` of a
// region cut off from NATS hung until SIGKILL.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { connectNats } from "../../src/protocol/connect.js";
import { RegionWorker } from "../../src/region/worker.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

describe("a worker cut off from NATS", () => {
  it("stops within a bound when asked", { timeout: 60_000 }, async () => {
    const nats = await startTestNatsServer();
    const nc = await connectNats(nats.url, "stop-without-nats");
    try {
      const worker = await RegionWorker.start({
        nc,
        region: "us1",
        log: pino({ level: "silent" }),
        drainMs: 0,
      });
      await nats.kill();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        worker.stop().then(
          () => "stopped",
          () => "stopped", // a stop that reports what it could not store still stopped
        ),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("still stopping after 30 s"), 30_000);
        }),
      ]);
      clearTimeout(timer);
      expect(outcome).toBe("stopped");
    } finally {
      await nc.close();
      await nats.stop();
    }
  });
});
