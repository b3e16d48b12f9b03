// What the media bench measures at the receiving side: every stream's packet intervals (pooled into
// one histogram of 10 µs bins, for the mean, stdev and p99 over all calls), its sequence gaps, and
// whether each payload is the prompt frame that should come next.
import { classify } from "./prompt.js";

const BIN_MS = 0.01;
const BINS = 20_000; // up to 200 ms; longer intervals land in the last bin (max keeps their size)

export interface IntervalSummary {
  count: number;
  mean: number;
  stdev: number;
  p50: number;
  p99: number;
  max: number;
}

/** Intervals pooled over every stream: exact mean and stdev, percentiles to 10 µs. */
export class IntervalHistogram {
  readonly #bins = new Uint32Array(BINS);
  #count = 0;
  #sum = 0;
  #sumSq = 0;
  #max = 0;

  add(ms: number): void {
    const bin = Math.min(BINS - 1, Math.max(0, Math.round(ms / BIN_MS)));
    this.#bins[bin] = (this.#bins[bin] as number) + 1;
    this.#count++;
    this.#sum += ms;
    this.#sumSq += ms * ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** The smallest interval that `q` of them are at most (to 10 µs). */
  quantile(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.#bins[i] as number;
      if (seen >= rank) return i === BINS - 1 ? this.#max : i * BIN_MS;
    }
    return this.#max;
  }

  summary(): IntervalSummary {
    const n = this.#count;
    const mean = n === 0 ? Number.NaN : this.#sum / n;
    return {
      count: n,
      mean,
      stdev: n === 0 ? Number.NaN : Math.sqrt(Math.max(0, this.#sumSq / n - mean * mean)),
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      max: this.#max,
    };
  }
}

/** What the audio of every stream was, packet by packet. */
export interface AudioCounts {
  packets: number;
  /** Prompt frames that came whole and right after the frame before them. */
  intact: number;
  silence: number;
  /** Payloads that are neither silence nor a prompt frame. */
  corrupt: number;
  /** Prompt frames that did not follow their predecessor (a frame lost, repeated or reordered). */
  outOfOrder: number;
  /** Packets missing by sequence number (a jump of n counts n − 1; a step back counts 1). */
  seqGaps: number;
}

export function emptyCounts(): AudioCounts {
  return { packets: 0, intact: 0, silence: 0, corrupt: 0, outOfOrder: 0, seqGaps: 0 };
}

/** One stream's receiver: feed it every packet; it adds to the shared intervals and counts while `measuring`. */
export class StreamTracker {
  #lastAt: number | undefined;
  #lastSeq: number | undefined;
  #lastFrame: number | undefined;
  #ssrc: number | undefined;

  constructor(
    private readonly intervals: IntervalHistogram,
    private readonly counts: AudioCounts,
  ) {}

  /** A packet that arrived at `at` (ms): its RTP sequence number, SSRC and payload. */
  packet(at: number, seq: number, ssrc: number, payload: Uint8Array, measuring: boolean): void {
    // A new sender (the baseline, then the gateway) starts a new stream.
    if (ssrc !== this.#ssrc) {
      this.#ssrc = ssrc;
      this.#lastAt = this.#lastSeq = this.#lastFrame = undefined;
    }
    const kind = classify(payload);
    const step = this.#lastSeq === undefined ? 1 : (seq - this.#lastSeq) & 0xffff;
    if (measuring) {
      const c = this.counts;
      c.packets++;
      if (step !== 1 && this.#lastSeq !== undefined) c.seqGaps += step === 0 || step > 0x8000 ? 1 : step - 1;
      // Only consecutive packets make an interval: a lost one would count as a 40 ms wait.
      if (step === 1 && this.#lastAt !== undefined) this.intervals.add(at - this.#lastAt);
      if (kind === "silence") c.silence++;
      else if (kind === "corrupt") c.corrupt++;
      else if (this.#lastFrame === undefined || kind === this.#lastFrame + 1) c.intact++;
      else c.outOfOrder++;
    }
    this.#lastAt = at;
    this.#lastSeq = seq;
    // A corrupt payload still took its frame's place in the order.
    this.#lastFrame =
      typeof kind === "number"
        ? kind
        : kind === "corrupt" && this.#lastFrame !== undefined
          ? this.#lastFrame + 1
          : undefined;
  }

  /** Whether a prompt frame has arrived (the call is past its answer and playing). */
  get playing(): boolean {
    return this.#lastFrame !== undefined;
  }
}
