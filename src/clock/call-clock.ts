// Each call's clock. At time-scale 1 it is the wall clock; at 0 < s < 1 timers run s times as long
// in real time and the call's time runs 1/s as fast; at 0 the call's time is simulated: a timer
// fires as soon as the call has nothing real in flight, and the clock jumps to its due time.
// Work in real time (a webhook request, a KV write) holds the clock, so simulated time never
// races ahead of it: a caller's "hang up after 5 s" lands after the webhook that came first.
import type { Clock } from "./clock.js";

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
}

export class CallClock implements Clock {
  readonly scale: number;
  #origin: number;
  #realOrigin: number;
  // Simulated mode (scale 0) only:
  #virtual: number;
  #timers: Timer[] = [];
  #seq = 0;
  #holds = 0;
  #draining = false;

  constructor(scale = 1, start = Date.now()) {
    this.scale = Math.min(1, Math.max(0, scale));
    this.#origin = start;
    this.#realOrigin = Date.now();
    this.#virtual = start;
  }

  now(): number {
    if (this.scale === 0) return this.#virtual;
    return this.#origin + (Date.now() - this.#realOrigin) / this.scale;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const delay = Math.max(0, ms);
    if (this.scale > 0) return setTimeout(fn, delay * this.scale);
    const timer = { due: this.#virtual + delay, seq: this.#seq++, fn };
    // Kept sorted by due time, then by order of scheduling.
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1] as Timer).due > timer.due) i--;
    this.#timers.splice(i, 0, timer);
    this.#schedule();
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (this.scale > 0) {
      clearTimeout(handle as NodeJS.Timeout);
      return;
    }
    const i = this.#timers.indexOf(handle as Timer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Marks real-time work in flight; simulated time stands still until every hold is released. */
  hold(): () => void {
    if (this.scale > 0) return () => {};
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#schedule();
    };
  }

  /** Runs `work` while holding the clock. */
  async holding<T>(work: () => Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Drops every pending timer (the call is over). */
  dispose(): void {
    this.#timers.length = 0;
  }

  #schedule(): void {
    if (this.#draining || this.#holds > 0 || this.#timers.length === 0) return;
    this.#draining = true;
    // setImmediate, not a microtask: I/O that has already completed gets to run (and hold) first.
    setImmediate(() => {
      this.#draining = false;
      if (this.#holds > 0) return;
      const timer = this.#timers.shift();
      if (!timer) return;
      this.#virtual = Math.max(this.#virtual, timer.due);
      timer.fn();
      this.#schedule();
    });
  }
}
