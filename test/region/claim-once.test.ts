// Issue #16 item 5: at most one live copy of a call. A survivor asked to claim a dead worker's calls
// again while its first claim round still runs (its sweep does so every few seconds; here the dead
// worker's heartbeat flaps, which asks at once) must not launch any call twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LivenessFixture, PAUSE_NUMBER, startLivenessFixture } from "./liveness-fixture.js";

const PAUSE_S = 8;
let f: LivenessFixture;

beforeAll(async () => {
  f = await startLivenessFixture(PAUSE_S);
});

afterAll(async () => {
  await f?.[Symbol.asyncDispose]();
});

describe("claiming a dead worker's calls", () => {
  it("resumes each call once when claim rounds are asked for while one runs", {
    timeout: 60_000,
  }, async () => {
    const a = f.worker();
    const b = f.worker();
    await Promise.all([a.waitForLog("ready"), b.waitForLog("ready")]);
    const calls = f.place(40, PAUSE_NUMBER);
    const sids = await calls.sids;
    await f.snapshotsStored(sids);
    const owners = await f.owners(sids);
    const deadName = owners.get(sids[0] ?? "") ?? "";
    const [dead, survivor] = deadName.startsWith(`${a.child.pid}-`) ? [a, b] : [b, a];
    dead.child.kill("SIGKILL");
    await survivor.waitForLog("worker is gone; claiming its calls", 10_000);
    // The dead worker's heartbeat comes and goes: each time it goes, the survivor is told again.
    for (let i = 0; i < 3; i++) {
      await f.actors.put(`_w.${deadName}`, JSON.stringify({ at: Date.now(), pid: 0 }));
      await f.actors.purge(`_w.${deadName}`);
    }
    const placed = await calls.ended;
    await f.expectRanOnce(placed);
    const theirs = placed.filter((p) => owners.get(p.callSid) === deadName);
    expect(theirs.length).toBeGreaterThan(0);
    for (const p of theirs) expect(f.seen(p.callSid).resumed, `resumes of ${p.callSid}`).toBe(1);
  });
});
