// The per-call clock: simulated time at scale 0 must fire timers in due order, jump the clock to
// each due time, and stand still while real work holds it.
import { describe, expect, it } from "vitest";
import { CallClock } from "../../src/clock/call-clock.js";
import { sleep } from "../../src/clock/clock.js";

describe("CallClock at time-scale 0", () => {
  it("fires timers in due order and advances simulated time to each", async () => {
    const clock = new CallClock(0, 1_000);
    const fired: [string, number][] = [];
    const all = Promise.all(
      [
        ["late", 5_000],
        ["early", 1_000],
        ["middle", 3_000],
        ["early-too", 1_000],
      ].map(([name, ms]) => sleep(clock, ms as number).then(() => fired.push([name as string, clock.now()]))),
    );
    await all;
    expect(fired).toEqual([
      ["early", 2_000],
      ["early-too", 2_000],
      ["middle", 4_000],
      ["late", 6_000],
    ]);
  });

  it("does not advance while real work holds the clock", async () => {
    const clock = new CallClock(0, 0);
    const order: string[] = [];
    let finishWork!: () => void;
    const work = clock.holding(
      () =>
        new Promise<void>((resolve) => {
          finishWork = () => {
            order.push("work done");
            resolve();
          };
        }),
    );
    const timer = sleep(clock, 10_000).then(() => order.push(`timer at ${clock.now()}`));
    // Let the event loop run a few turns: a free-running clock would fire the timer here.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    finishWork();
    await Promise.all([work, timer]);
    expect(order).toEqual(["work done", "timer at 10000"]);
  });

  it("cancels a sleep through its signal", async () => {
    const clock = new CallClock(0, 0);
    const abort = new AbortController();
    const slept = sleep(clock, 1_000, abort.signal);
    abort.abort(new Error("caller hung up"));
    await expect(slept).rejects.toThrow("caller hung up");
    expect(clock.now()).toBe(0);
  });
});

describe("CallClock at time-scale 1", () => {
  it("follows the wall clock", async () => {
    const clock = new CallClock(1);
    const before = Date.now();
    await sleep(clock, 20);
    expect(clock.now() - before).toBeGreaterThanOrEqual(19);
  });
});

describe("CallClock at time-scale 0, paced (waiting on another call)", () => {
  it("fires timers at their real due time while paced, and at once again when released", async () => {
    const clock = new CallClock(0, 0);
    const release = clock.pace();
    const started = Date.now();
    await sleep(clock, 80);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(clock.now()).toBeGreaterThanOrEqual(80);
    // An hour away: only releasing the pace lets it fire without waiting an hour.
    const later = sleep(clock, 3_600_000);
    release();
    await later;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(clock.now()).toBeGreaterThanOrEqual(3_600_080);
  });

  it("does not fire a later timer early when the one it was waiting for is cleared", async () => {
    const clock = new CallClock(0, 0);
    const release = clock.pace();
    const fired: string[] = [];
    const soon = clock.setTimeout(() => fired.push("soon"), 50);
    clock.setTimeout(() => fired.push("in an hour"), 3_600_000);
    const marker = sleep(clock, 120).then(() => fired.push("marker"));
    clock.clearTimeout(soon);
    await marker;
    expect(fired).toEqual(["marker"]);
    release();
    clock.dispose();
  });
});
