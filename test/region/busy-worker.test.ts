// Issue #16 item 4: a worker whose main thread is busy must not be taken for dead: its heartbeat runs
// on a thread of its own. The busy spell is real: SIGUSR2 blocks each worker's main thread for twice
// the death threshold (fixtures/block-main-thread.cjs, preloaded into the real worker processes), as
// a long GC pause or a starved VM would; hostile documents (5,000 unknown attributes, which the
// parser's limits now refuse cheaply) arrive meanwhile. No worker is declared dead, no call is
// resumed or run twice, and the largest heartbeat gap another process sees stays under the threshold.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEAD_AFTER_MS } from "../../src/region/host/leases.js";
import {
  BLOCK_MS,
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
  it("is not declared dead while its main thread is blocked for twice the death threshold", {
    timeout: 60_000,
  }, async () => {
    const a = f.worker({ blockable: true });
    const b = f.worker({ blockable: true });
    await Promise.all([a.waitForLog("ready"), b.waitForLog("ready")]);
    const parked = f.place(12, PAUSE_NUMBER);
    const parkedSids = await parked.sids;
    await f.snapshotsStored(parkedSids);
    const hostile = f.place(8, HOSTILE_NUMBER);
    // Both main threads stall, one after the other, each for BLOCK_MS: no beat from either meanwhile.
    for (const w of [a, b]) {
      const blocked = w.waitForLog("main thread was blocked", BLOCK_MS + 10_000);
      w.child.kill("SIGUSR2");
      await blocked;
    }
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
