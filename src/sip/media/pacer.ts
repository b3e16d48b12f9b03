// One timer for every call's RTP: each stream sends its frames at start + n·20 ms (drift-corrected:
// a late frame does not move the next). Streams wait in a wheel of 1 ms slots by the whole
// millisecond their next frame is due; the timer wakes at the next slot that holds one.
//
// The gateway's streams start on one 5 ms grid (`onGrid`), so a turn sends a quarter of them, and
// that turn starts on time: its timer is armed EARLY_MS before the slot and the rest is waited out
// precisely (`Atomics.wait` on a futex: the thread sleeps, it does not spin). A Node timer's time is
// the loop's cached millisecond, so it fires before its slot about as often as after it; the wheel
// then ran an empty turn and a frame went a timer turn (≥ 1 ms) late. Measured at 500 calls
// (bench/README.md, twentieth session): a frame's lateness against its slot p50 1.3 → 0.1 ms, p99
// 4–10 → 1.8–2.8 ms; the send interval's p99 at the wire 0.3 ms above a plain sender's at the
// median of 29 runs, against 0.7 ms before (smaller than the machine's spread between batches). A turn of every stream at once (a 20 ms grid) took 3 ms of sends and
// was no better; a 1 ms grid would sleep most of the time.

import { pacerTrace } from "./pacer-trace.js";

/** A paced stream: sends what is due by `now` and says when its next frame is due (whole ms), or stops. */
export interface Paced {
  tick(now: number): number | undefined;
}

/** More slots than a frame's 20 ms, so a stream's next due time never laps the wheel. */
const WHEEL = 32;

/** The grid streams start on: four turns a 20 ms frame. */
const GRID_MS = 5;

/**
 * How long before a slot its timer is armed; the rest is waited precisely. Long enough for a Node
 * timer's lateness most of the time, short beside the 20 ms the event loop is otherwise free.
 */
const EARLY_MS = 1;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (fractions included) without spinning: a futex wait on a cell no one wakes. */
export function waitPrecisely(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

export class Pacer {
  readonly #slots = Array.from({ length: WHEEL }, () => new Set<Paced>());
  readonly #due = new Map<Paced, number>();
  /** The last whole millisecond whose slot has been run. */
  #cursor: number;
  #timer: NodeJS.Timeout | undefined;
  /** The whole ms the timer was armed for (for the trace's lateness). */
  #armedFor = 0;

  /** The grid's origin (a whole ms): streams that start on the grid share their slots. */
  readonly #origin: number;

  constructor(
    private readonly clock: () => number = () => performance.now(),
    private readonly wait: (ms: number) => void = waitPrecisely,
  ) {
    this.#cursor = Math.floor(clock());
    this.#origin = Math.ceil(clock());
  }

  /** The first time on the pacer's grid (every GRID_MS) at or after `t`: where a stream should start. */
  onGrid(t: number): number {
    return this.#origin + Math.ceil((t - this.#origin) / GRID_MS) * GRID_MS;
  }

  get size(): number {
    return this.#due.size;
  }

  /** Paces `stream` from `due` (ms on the clock; rounded up to a whole ms). */
  add(stream: Paced, due: number): void {
    this.remove(stream);
    // An idle wheel's cursor is stale: nothing waits, so it can move to now without skipping a stream.
    if (this.#due.size === 0) this.#cursor = Math.floor(this.clock()) - 1;
    this.#place(stream, Math.ceil(due));
    this.#arm();
  }

  remove(stream: Paced): void {
    const due = this.#due.get(stream);
    if (due === undefined) return;
    this.#due.delete(stream);
    for (const slot of this.#slots) slot.delete(stream);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.clear();
    for (const slot of this.#slots) slot.clear();
  }

  #place(stream: Paced, due: number): void {
    this.#due.set(stream, due);
    // A time already passed waits in the next slot to run, not a lap later.
    (this.#slots[Math.max(due, this.#cursor + 1) % WHEEL] as Set<Paced>).add(stream);
  }

  #run = (): void => {
    this.#timer = undefined;
    // Armed early: the rest of the time to the slot is waited out here, so its frames leave on time.
    const early = this.#armedFor - this.clock();
    if (early > 0) this.wait(Math.min(early, EARLY_MS + 1));
    const now = this.clock();
    const until = Math.floor(now);
    let frames = 0;
    // After a stall longer than the wheel, every slot is due once.
    for (let ms = Math.max(this.#cursor + 1, until - WHEEL + 1); ms <= until; ms++) {
      const slot = this.#slots[ms % WHEEL] as Set<Paced>;
      for (const stream of [...slot]) {
        const due = this.#due.get(stream);
        if (due === undefined || due > now) continue;
        slot.delete(stream);
        frames++;
        const next = stream.tick(now);
        if (next === undefined) this.#due.delete(stream);
        else this.#place(stream, Math.ceil(next));
      }
    }
    this.#cursor = Math.max(this.#cursor, until);
    pacerTrace?.turn(this.#armedFor, now, this.clock(), frames, this.#due.size);
    this.#arm();
  };

  #arm(): void {
    if (this.#due.size === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    let next = Number.POSITIVE_INFINITY;
    for (let ms = this.#cursor + 1; ms <= this.#cursor + WHEEL; ms++) {
      if ((this.#slots[ms % WHEEL] as Set<Paced>).size > 0) {
        next = ms;
        break;
      }
    }
    if (next === Number.POSITIVE_INFINITY) return;
    clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(this.#run, Math.max(0, next - EARLY_MS - this.clock()));
  }
}
