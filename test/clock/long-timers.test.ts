// Long real-time waits share a one-minute slot until their last minutes: they must still fire when
// due (not before), and a cleared one must neither fire nor keep a timer (the process alive).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearLongTimeout, setLongTimeout } from "../../src/clock/long-timers.js";

const HOUR = 3_600_000;

describe("setLongTimeout", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires an hour's wait when it is due, not before", () => {
    const fired: number[] = [];
    const start = performance.now();
    setLongTimeout(() => fired.push(performance.now() - start), HOUR);
    vi.advanceTimersByTime(HOUR - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([HOUR]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("fires waits in the same slot in due order", () => {
    const fired: string[] = [];
    setLongTimeout(() => fired.push("later"), HOUR + 2_000);
    setLongTimeout(() => fired.push("sooner"), HOUR + 1_000);
    setLongTimeout(() => fired.push("short"), 1_000);
    vi.advanceTimersByTime(HOUR + 2_000);
    expect(fired).toEqual(["short", "sooner", "later"]);
  });

  it("never fires a cleared wait and keeps no timer for it", () => {
    const fired: string[] = [];
    const inSlot = setLongTimeout(() => fired.push("in slot"), 4 * HOUR);
    const started = setLongTimeout(() => fired.push("started"), 3 * 60_000);
    clearLongTimeout(inSlot);
    vi.advanceTimersByTime(2 * 60_000);
    clearLongTimeout(started);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5 * HOUR);
    expect(fired).toEqual([]);
  });
});
