// Issue #16 item 3: a worker stopped (SIGSTOP) long enough to be found dead has its calls taken
// over; when it wakes (SIGCONT) it must not take its healthy peer's calls in turn, nor go on with
// the calls it lost. Every call still runs once, and the peer's calls keep their duration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LivenessFixture, PAUSE_NUMBER, startLivenessFixture } from "./liveness-fixture.js";

const PAUSE_S = 10;
let f: LivenessFixture;

beforeAll(async () => {
  f = await startLivenessFixture(PAUSE_S);
});

afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});

describe("a worker that was stalled", () => {
  it("wakes without taking over its healthy peer's calls, and stops the copies it lost", {
    timeout: 60_000,
  }, async () => {
    const a = f.worker();
    const b = f.worker();
    await Promise.all([a.waitForLog("ready"), b.waitForLog("ready")]);
    const calls = f.place(20, PAUSE_NUMBER);
    const sids = await calls.sids;
    await f.snapshotsStored(sids);
    const owners = await f.owners(sids);
    const stalledName = owners.get(sids[0] ?? "") ?? "";
    const [stalled, healthy] = stalledName.startsWith(`${a.child.pid}-`) ? [a, b] : [b, a];
    stalled.child.kill("SIGSTOP");
    try {
      // Stopped past the death threshold: its peer takes its calls, and its peer's beats pile up unread.
      await healthy.waitForLog("took over a dead worker's calls", 10_000);
    } finally {
      stalled.child.kill("SIGCONT");
    }
    const placed = await calls.ended;
    await f.expectRanOnce(placed);
    for (const p of placed) {
      const seen = f.seen(p.callSid);
      if (owners.get(p.callSid) === stalledName) {
        expect(seen.resumed, `resumes of the stalled worker's ${p.callSid}`).toBe(1);
      } else {
        // The healthy worker's calls were never touched: one Pause, its length, no resume.
        expect(seen, `the healthy worker's ${p.callSid}`).toEqual({ resumed: 0, pauses: 1 });
        expect(Number(p.call.duration)).toBeLessThanOrEqual(PAUSE_S + 2);
      }
    }
    expect(stalled.output()).not.toContain("worker is gone");
  });
});
