// The short chaos run (the long one is in `npm run bench`): steady load on two worker processes,
// one SIGKILLed every few seconds and replaced, nats-server restarted once. No call may be lost and
// none may reach the app's status callback twice.
import { describe, expect, it } from "vitest";
import { runChaos } from "../../bench/chaos-harness.js";

describe("chaos", () => {
  it("loses no call and duplicates none while workers die and nats-server restarts", {
    timeout: 150_000,
  }, async () => {
    const report = await runChaos({
      loadMs: 12_000,
      rate: 4,
      workers: 2,
      killEveryMs: 4_000,
      restartNatsAtMs: 6_000,
      settleMs: 60_000,
    });
    console.log("chaos (short):", JSON.stringify(report));
    expect(report.offered).toBeGreaterThan(30);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.kills).toBeGreaterThanOrEqual(2);
    expect(report.resumed).toBeGreaterThan(0);
    expect(report.resumeMs.p99).toBeLessThan(3_000);
  });
});
