// One source's frames in a room mix, as they arrive over NATS: a small jitter buffer ordered by
// sequence number, which starts playing once it holds a few frames and skips ahead when it lags.
import type { RoomFrame } from "../../protocol/room-audio.js";

/** Frames held before a source starts to play: 40 ms absorbs the bus's and the sender's jitter. */
const START_DEPTH = 2;
/** More than this held (a burst, a drifting clock, a beep sent at once) and the oldest are dropped. */
const MAX_DEPTH = 25;
/** Missing this many frames in a row, the source buffers afresh (it paused, or left). */
const RESTART_AFTER = 10;

export interface SourceFrame {
  pcm: Int16Array;
  coachOf: string | undefined;
}

export class RoomSource {
  readonly #frames = new Map<number, SourceFrame>();
  #next: number | undefined;
  #highest = -1;
  #missed = 0;
  /** When the last frame arrived (ms): a source silent for long is forgotten. */
  lastArrival = 0;

  push(frame: RoomFrame, pcm: Int16Array, now: number): void {
    this.lastArrival = now;
    if (this.#next !== undefined && frame.seq < this.#next) return; // too late: its time has played
    this.#frames.set(frame.seq, { pcm, coachOf: frame.coachOf });
    this.#highest = Math.max(this.#highest, frame.seq);
    if (this.#frames.size > MAX_DEPTH) {
      const keep = this.#highest - START_DEPTH + 1;
      for (const seq of this.#frames.keys()) if (seq < keep) this.#frames.delete(seq);
      this.#next = keep;
    }
  }

  /** The frame for this 20 ms, or undefined (not started, or lost: silence from this source). */
  pop(): SourceFrame | undefined {
    if (this.#next === undefined) {
      if (this.#frames.size < START_DEPTH) return undefined;
      this.#next = Math.min(...this.#frames.keys());
    }
    const frame = this.#frames.get(this.#next);
    this.#frames.delete(this.#next);
    this.#next++;
    if (frame) {
      this.#missed = 0;
      return frame;
    }
    if (++this.#missed >= RESTART_AFTER && this.#frames.size === 0) {
      this.#next = undefined;
      this.#missed = 0;
    }
    return undefined;
  }
}
