// Each call's clock. At time-scale 1 it is the wall clock; at 0 < s < 1 timers run s times as long
// in real time and the call's time runs 1/s as fast; at 0 the call's time is simulated: a timer
// fires as soon as the call has nothing real in flight, and the clock jumps to its due time.
// Work in real time (a webhook request, a KV write) holds the clock, so simulated time never
// races ahead of it: a caller's "hang up after 5 s" lands after the webhook that came first.
import type { Clock } from "./clock.js";
import { clearLongTimeout, setLongTimeout } from "./long-timers.js";

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
}

export class CallClock implements Clock {
  readonly scale: number;
  // Call time is #origin + (wall time - #realOrigin) / scale. At scale 1 only their difference counts:
  // it is kept in #origin (usually 0) and #realOrigin is 0, so a call at time-scale 1 holds small
  // integers, not boxed doubles. 100,000 parked calls each have a clock (issue #9).
  #origin: number;
  #realOrigin: number;
  /** Simulated mode (scale 0) only: its timers and where its time stands. */
  #simulated: SimulatedTime | undefined;

  /**
   * `gate` runs each real-time timer's callback (the region holds one back after a stall, until it
   * knows the call is still its own); by default it runs at once.
   */
  constructor(
    scale = 1,
    start = Date.now(),
    private readonly gate?: (fn: () => void) => void,
  ) {
    this.scale = Math.min(1, Math.max(0, scale));
    const real = Date.now();
    if (this.scale === 1) {
      this.#origin = start - real;
      this.#realOrigin = 0;
    } else {
      this.#origin = start;
      this.#realOrigin = real;
    }
    if (this.scale === 0) this.#simulated = new SimulatedTime(start);
  }

  now(): number {
    return this.#simulated
      ? this.#simulated.now()
      : this.#origin + (Date.now() - this.#realOrigin) / this.scale;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const delay = Math.max(0, ms);
    // Real time: an hour's Pause or a call's 4 h limit waits in a shared slot until its last minutes.
    if (this.#simulated) return this.#simulated.setTimeout(fn, delay);
    const gate = this.gate;
    return setLongTimeout(gate ? () => gate(fn) : fn, delay * this.scale);
  }

  clearTimeout(handle: unknown): void {
    if (this.#simulated) this.#simulated.clearTimeout(handle as Timer);
    else clearLongTimeout(handle);
  }

  /** Marks real-time work in flight; simulated time stands still until every hold is released. */
  hold(): () => void {
    return this.#simulated ? this.#simulated.hold() : noop;
  }

  /**
   * Marks a wait on something outside the call (another call joining a conference, a caller being
   * dequeued): until released, simulated time runs at the wall clock's pace, so the call's timers
   * (its wait music, its caller's scripted hang-up, its 4 h limit) fire when they would in real
   * time, not all at once before the other call had a chance to come.
   */
  pace(): () => void {
    return this.#simulated ? this.#simulated.pace() : noop;
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
    this.#simulated?.dispose();
  }
}

const noop = () => {};

/**
 * Simulated time (scale 0): a timer fires as soon as nothing real is in flight (no hold), and the
 * clock jumps to its due time; paced, it fires at its real due time instead.
 */
class SimulatedTime {
  #virtual: number;
  #timers: Timer[] = [];
  #seq = 0;
  #holds = 0;
  #draining = false;
  // Paced: the call waits on something outside it (another call), so its timers fire at their real
  // due time instead of at once. See CallClock.pace().
  #paced = 0;
  #pacedFrom: { real: number; virtual: number } | undefined;
  #realTimer: NodeJS.Timeout | undefined;

  constructor(start: number) {
    this.#virtual = start;
  }

  now(): number {
    const from = this.#pacedFrom;
    return from ? Math.max(this.#virtual, from.virtual + (Date.now() - from.real)) : this.#virtual;
  }

  setTimeout(fn: () => void, delay: number): Timer {
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

  clearTimeout(handle: Timer): void {
    const i = this.#timers.indexOf(handle);
    if (i >= 0) this.#timers.splice(i, 1);
    if (i === 0 && this.#realTimer !== undefined) {
      this.#cancelRealTimer();
      this.#schedule();
    }
  }

  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#schedule();
    };
  }

  pace(): () => void {
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
