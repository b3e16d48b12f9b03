// One timer for every call's RTP: each stream sends its frames at start + n·20 ms (drift-corrected,
// never moved onto a shared ticker's grid). Streams wait in a wheel of 1 ms slots by the whole
// millisecond their next frame is due; the timer wakes at the next slot that holds one.

import { pacerTrace } from "./pacer-trace.js";

/** A paced stream: sends what is due by `now` and says when its next frame is due (whole ms), or stops. */
export interface Paced {
  tick(now: number): number | undefined;
}

/** More slots than a frame's 20 ms, so a stream's next due time never laps the wheel. */
const WHEEL = 32;

export class Pacer {
  readonly #slots = Array.from({ length: WHEEL }, () => new Set<Paced>());
  readonly #due = new Map<Paced, number>();
  /** The last whole millisecond whose slot has been run. */
  #cursor: number;
  #timer: NodeJS.Timeout | undefined;
  /** The whole ms the timer was armed for (for the trace's lateness). */
  #armedFor = 0;

  constructor(private readonly clock: () => number = () => performance.now()) {
    this.#cursor = Math.floor(clock());
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
    this.#timer = setTimeout(this.#run, Math.max(0, next - this.clock()));
  }
}
