// Where a late RTP frame comes from (issue #20's media bench): with SWITCHBOARD_PACER_TRACE=<file>,
// the pacer records each turn (due ms, start, length, frames, the loop's idle time and inbound RTP work
// since the last turn) and the GC pauses; written as JSON at exit for bench/sip/pacer-trace.ts.
import { writeFileSync } from "node:fs";
import { PerformanceObserver, performance } from "node:perf_hooks";

const CAPACITY = 1 << 18; // ≈ 260 s of turns at one a millisecond

export class PacerTrace {
  readonly #due = new Float64Array(CAPACITY);
  readonly #start = new Float64Array(CAPACITY);
  readonly #end = new Float64Array(CAPACITY);
  readonly #frames = new Uint32Array(CAPACITY);
  readonly #idle = new Float64Array(CAPACITY);
  readonly #inbound = new Float64Array(CAPACITY);
  readonly #inboundCount = new Uint32Array(CAPACITY);
  readonly #streams = new Uint32Array(CAPACITY);
  readonly #gc: number[] = [];
  #n = 0;
  #elu = performance.eventLoopUtilization();
  #inboundMs = 0;
  #inboundPackets = 0;

  constructor(file: string) {
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        this.#gc.push(e.startTime, e.duration, (e as { detail?: { kind?: number } }).detail?.kind ?? 0);
    });
    observer.observe({ entryTypes: ["gc"] });
    process.on("exit", () => writeFileSync(file, JSON.stringify(this.toJSON())));
  }

  /** Time spent handling one inbound RTP packet (counted into the next turn's record). */
  inbound(ms: number): void {
    this.#inboundMs += ms;
    this.#inboundPackets++;
  }

  turn(due: number, start: number, end: number, frames: number, streams: number): void {
    const i = this.#n++ % CAPACITY;
    const elu = performance.eventLoopUtilization();
    this.#due[i] = due;
    this.#start[i] = start;
    this.#end[i] = end;
    this.#frames[i] = frames;
    this.#streams[i] = streams;
    this.#idle[i] = elu.idle - this.#elu.idle;
    this.#inbound[i] = this.#inboundMs;
    this.#inboundCount[i] = this.#inboundPackets;
    this.#elu = elu;
    this.#inboundMs = 0;
    this.#inboundPackets = 0;
  }

  toJSON() {
    const n = Math.min(this.#n, CAPACITY);
    const take = <T extends Float64Array | Uint32Array>(a: T) => Array.from(a.subarray(0, n));
    return {
      // performance.now() is this far (ms) behind the monotonic clock a V8 CPU profile's times are on.
      hrtimeOffsetMs: Number(process.hrtime.bigint()) / 1e6 - performance.now(),
      due: take(this.#due),
      start: take(this.#start),
      end: take(this.#end),
      frames: take(this.#frames),
      streams: take(this.#streams),
      idle: take(this.#idle),
      inbound: take(this.#inbound),
      inboundCount: take(this.#inboundCount),
      gc: this.#gc,
    };
  }
}

const file = process.env.SWITCHBOARD_PACER_TRACE;
/** The process's trace, when SWITCHBOARD_PACER_TRACE names a file. */
export const pacerTrace: PacerTrace | undefined = file ? new PacerTrace(file) : undefined;
