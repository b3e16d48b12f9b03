// The pacer's timer wheel: every stream is ticked at (never before) its own due times, whatever its
// phase; a removed stream is not ticked again; an idle wheel starts again on the next stream. Streams
// started on its grid share slots, and a turn whose timer fired early waits out the rest precisely.
import { describe, expect, it, onTestFinished } from "vitest";
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

  it("puts every start on one grid of whole milliseconds, within a grid step after it", () => {
    const pacer = new Pacer();
    const now = performance.now();
    const asked = [0, 0.2, 1, 3.7, 4.99, 5, 12.5, 19.99].map((d) => now + d);
    const starts = asked.map((t) => pacer.onGrid(t));
    for (const [i, start] of starts.entries()) {
      expect(start).toBeGreaterThanOrEqual(asked[i] as number);
      expect(start - (asked[i] as number)).toBeLessThan(5);
      expect(Number.isInteger(start)).toBe(true);
      // Any two starts are a whole number of grid steps apart: their streams share slots.
      expect((start - (starts[0] as number)) % 5).toBe(0);
    }
    pacer.stop();
  });

  it("waits out the time to a slot precisely instead of a timer turn later", {
    timeout: 10_000,
  }, async () => {
    // The pacer's clock moves only by what the pacer waits: a slot is reached by the precise wait
    // alone. (A pacer that only re-armed its timer, as before, would never tick here; with a real
    // clock its Node timer fires up to a millisecond before the slot as often as not.)
    let t = 1000;
    const waits: number[] = [];
    const pacer = new Pacer(
      () => t,
      (ms) => {
        waits.push(ms);
        t += ms;
      },
    );
    onTestFinished(() => pacer.stop());
    const start = pacer.onGrid(t + 3);
    const lateness = await new Promise<number[]>((resolve) => {
      const s = stream(start, 4, () => resolve(s.lateness));
      pacer.add(s, start);
    });
    expect(start).toBe(1005);
    // Each frame exactly at its time, and no wait longer than the two milliseconds a timer may be early by.
    expect(lateness).toEqual([0, 0, 0, 0]);
    expect(t).toBe(1065);
    for (const ms of waits) expect(ms).toBeLessThanOrEqual(2);
  });
});
