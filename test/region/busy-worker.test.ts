// Issue #16 item 4: a worker whose main thread is busy (here, documents with thousands of unknown
// attributes, about half a second of parsing each) must not be taken for dead: its heartbeat runs
// on a thread of its own. No worker is declared dead, no call is resumed or run twice, and the
// largest heartbeat gap another process sees stays under the death threshold.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEAD_AFTER_MS } from "../../src/region/host/leases.js";
import {
  HOSTILE_NUMBER,
  type LivenessFixture,
  PAUSE_NUMBER,
  startLivenessFixture,
} from "./liveness-fixture.js";

const PAUSE_S = 8;
let f: LivenessFixture;

beforeAll(async () => {
  f = await startLivenessFixture(PAUSE_S);
});

afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});

describe("a busy worker", () => {
  it("is not declared dead while hostile documents block its main thread", { timeout: 60_000 }, async () => {
    const a = f.worker();
    const b = f.worker();
    await Promise.all([a.waitForLog("ready"), b.waitForLog("ready")]);
    const parked = f.place(12, PAUSE_NUMBER);
    const parkedSids = await parked.sids;
    await f.snapshotsStored(parkedSids);
    const hostile = f.place(8, HOSTILE_NUMBER);
    const placed = [...(await parked.ended), ...(await hostile.ended)];
    await f.expectRanOnce(placed);
    for (const p of placed) expect(f.seen(p.callSid).resumed, `resumes of ${p.callSid}`).toBe(0);
    for (const p of await parked.ended) expect(f.seen(p.callSid).pauses, `Pauses of ${p.callSid}`).toBe(1);
    const gap = f.maxHeartbeatGapMs();
    console.log(`largest heartbeat gap seen: ${gap} ms (death threshold ${DEAD_AFTER_MS} ms)`);
    expect(gap).toBeLessThan(DEAD_AFTER_MS);
    for (const w of [a, b]) expect(w.output()).not.toContain("worker is gone");
  });
});
