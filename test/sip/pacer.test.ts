// The pacer's timer wheel: every stream is ticked at (never before) its own due times, whatever its
// phase; a removed stream is not ticked again; an idle wheel starts again on the next stream.
import { describe, expect, it } from "vitest";
import { type Paced, Pacer } from "../../src/sip/media/pacer.js";

function stream(start: number, frames: number, done: () => void) {
  const lateness: number[] = [];
  let n = 0;
  const s: Paced & { lateness: number[] } = {
    lateness,
    tick(now) {
      const due = start + n * 20;
      lateness.push(now - due);
      n++;
      if (n === frames) {
        done();
        return undefined;
      }
      return start + n * 20;
    },
  };
  return s;
}

describe("Pacer", () => {
  it("ticks each of many streams at its own 20 ms schedule, never early", { timeout: 10_000 }, async () => {
    const pacer = new Pacer();
    const now = Math.ceil(performance.now()) + 5;
    let allDone!: () => void;
    const finished = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    let left = 40;
    const one = () => {
      if (--left === 0) allDone();
    };
    // Forty phases over the 20 ms frame, half of them between whole milliseconds.
    const streams = Array.from({ length: 40 }, (_, i) =>
      stream(now + (i % 20) + (i >= 20 ? 0.5 : 0), 10, one),
    );
    for (const s of streams) pacer.add(s, now);
    await finished;
    for (const s of streams) {
      expect(s.lateness).toHaveLength(10);
      // The first tick comes at the time it was added with; the rest on the stream's own grid.
      for (const late of s.lateness.slice(1)) expect(late).toBeGreaterThanOrEqual(0);
    }
    expect(pacer.size).toBe(0);
    pacer.stop();
  });

  it("does not tick a removed stream, and starts again after being idle", { timeout: 10_000 }, async () => {
    const pacer = new Pacer();
    let removedTicks = 0;
    const removed: Paced = {
      tick: () => {
        removedTicks++;
        return performance.now() + 20;
      },
    };
    pacer.add(removed, performance.now() + 40);
    pacer.remove(removed);
    const first = new Promise<void>((resolve) =>
      pacer.add(stream(Math.ceil(performance.now()), 2, resolve), performance.now()),
    );
    await first;
    expect(pacer.size).toBe(0);
    // Idle for longer than the wheel's 32 slots (the idleness is what is tested, not a wait for an event).
    await new Promise((resolve) => setTimeout(resolve, 60));
    const second = new Promise<void>((resolve) =>
      pacer.add(stream(Math.ceil(performance.now()), 3, resolve), performance.now()),
    );
    await second;
    expect(removedTicks).toBe(0);
    pacer.stop();
  });
});
