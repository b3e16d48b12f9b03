// The short chaos run (the long one is in `npm run bench`): steady load on three worker processes,
// one SIGKILLed every few seconds and replaced, one stopped (SIGSTOP) for 8 s and woken, nats-server
// restarted once, and one call in ten answered with a hostile document (issue #16). No call may be
// lost, none may run twice, and none whose worker was neither killed nor stopped may replay a verb.
import { describe, expect, it } from "vitest";
import { runChaos } from "../../bench/chaos-harness.js";

describe("chaos", () => {
  it("loses no call and runs none twice while workers die, stall and parse hostile documents, and nats-server restarts", {
    timeout: 150_000,
  }, async () => {
    const report = await runChaos({
      loadMs: 20_000,
      rate: 3,
      // Three, so that one still runs while one is stopped and another killed.
      workers: 3,
      killEveryMs: 7_000,
      restartNatsAtMs: 10_000,
      stall: { atMs: 2_000, forMs: 8_000 },
      hostileEvery: 10,
      settleMs: 60_000,
    });
    console.log("chaos (short):", JSON.stringify(report));
    expect(report.offered).toBeGreaterThan(30);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.ranTwice).toBe(0);
    expect(report.replayedHealthy).toBe(0);
    expect(report.kills).toBeGreaterThanOrEqual(2);
    expect(report.stalls).toBe(1);
    expect(report.hostile).toBeGreaterThanOrEqual(4);
    expect(report.resumed).toBeGreaterThan(0);
    expect(report.resumeMs.p99).toBeLessThan(3_000);
  });
});
