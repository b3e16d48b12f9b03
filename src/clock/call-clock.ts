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
  // Paced (simulated mode): the call waits on something outside it (another call), so its timers
  // fire at their real due time instead of at once. See pace().
  #paced = 0;
  #pacedFrom: { real: number; virtual: number } | undefined;
  #realTimer: NodeJS.Timeout | undefined;

  constructor(scale = 1, start = Date.now()) {
    this.scale = Math.min(1, Math.max(0, scale));
    this.#origin = start;
    this.#realOrigin = Date.now();
    this.#virtual = start;
  }

  now(): number {
    if (this.scale === 0) {
      const from = this.#pacedFrom;
      return from ? Math.max(this.#virtual, from.virtual + (Date.now() - from.real)) : this.#virtual;
    }
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
    // A paced wait for a later timer must not delay this one.
    if (i === 0) this.#cancelRealTimer();
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
    if (i === 0 && this.#realTimer !== undefined) {
      this.#cancelRealTimer();
      this.#schedule();
    }
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

  /**
   * Marks a wait on something outside the call (another call joining a conference, a caller being
   * dequeued): until released, simulated time runs at the wall clock's pace, so the call's timers
   * (its wait music, its caller's scripted hang-up, its 4 h limit) fire when they would in real
   * time, not all at once before the other call had a chance to come.
   */
  pace(): () => void {
    if (this.scale > 0) return () => {};
    if (this.#paced++ === 0) this.#pacedFrom = { real: Date.now(), virtual: this.#virtual };
    this.#cancelRealTimer();
    this.#schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#paced === 0) {
        this.#virtual = this.now();
        this.#pacedFrom = undefined;
      }
      this.#cancelRealTimer();
      this.#schedule();
    };
  }

  /** Runs `work` while pacing the clock (see pace()). */
  async pacing<T>(work: () => Promise<T>): Promise<T> {
    const release = this.pace();
    try {
      return await work();
    } finally {
      release();
    }
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
    this.#cancelRealTimer();
  }

  #cancelRealTimer(): void {
    if (this.#realTimer === undefined) return;
    clearTimeout(this.#realTimer);
    this.#realTimer = undefined;
    this.#draining = false;
  }

  #schedule(): void {
    if (this.#draining || this.#holds > 0 || this.#timers.length === 0) return;
    this.#draining = true;
    const fire = () => {
      this.#realTimer = undefined;
      this.#draining = false;
      if (this.#holds > 0) return;
      const first = this.#timers[0];
      if (!first) return;
      // Paced, a timer fires only when due (the one this wait was for may have been cleared).
      if (this.#paced > 0 && first.due > this.now()) {
        this.#schedule();
        return;
      }
      const timer = this.#timers.shift() as Timer;
      this.#virtual = Math.max(this.now(), timer.due);
      timer.fn();
      this.#schedule();
    };
    const wait = this.#paced > 0 ? (this.#timers[0] as Timer).due - this.now() : 0;
    // setImmediate, not a microtask: I/O that has already completed gets to run (and hold) first.
    if (wait > 0) this.#realTimer = setTimeout(fire, wait);
    else setImmediate(fire);
  }
}
