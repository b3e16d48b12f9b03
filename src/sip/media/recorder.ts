// <Record> on RTP: the caller's audio placed by RTP timestamp (so reordered packets land in order and
// lost ones leave silence), ended by a finishing key, silence, the maximum length or hang-up.
import type { RecordOptions } from "../../twiml/ports/channel.js";
import type { RtpPacket } from "../rtp/packet.js";
import { wavFromPcm } from "../rtp/wav.js";

const RATE = 8000;
/** Mean absolute amplitude above which a 20 ms frame counts as sound, not silence (≈ -40 dBFS). */
const SOUND_LEVEL = 300;

export interface Recording {
  readonly wav: Uint8Array;
  readonly durationMs: number;
  readonly digits: string;
}

export class Recorder {
  #pcm = new Int16Array(RATE * 10);
  /** Samples from the first packet to the end of the furthest one. */
  #end = 0;
  #base: { ssrc: number; timestamp: number } | undefined;
  #silenceTimer: NodeJS.Timeout | undefined;
  #done = false;
  readonly result: Promise<Recording>;
  #finish!: (r: Recording) => void;

  constructor(private readonly options: RecordOptions) {
    this.result = new Promise((resolve) => {
      this.#finish = resolve;
    });
    this.#armSilence();
  }

  audio(packet: RtpPacket, pcm: Int16Array): void {
    if (this.#done) return;
    // A new source (the caller's phone restarted its stream) continues where the last one ended.
    if (this.#base === undefined || this.#base.ssrc !== packet.ssrc)
      this.#base = { ssrc: packet.ssrc, timestamp: (packet.timestamp - this.#end) >>> 0 };
    const offset = (packet.timestamp - this.#base.timestamp) | 0;
    if (offset < 0 || offset > RATE * 3600 * 4) return;
    const max = Math.floor((this.options.maxLengthMs * RATE) / 1000);
    const end = Math.min(offset + pcm.length, max);
    if (end > offset) {
      this.#grow(end);
      this.#pcm.set(pcm.subarray(0, end - offset), offset);
      this.#end = Math.max(this.#end, end);
    }
    if (loud(pcm)) this.#armSilence();
    if (this.#end >= max) this.stop("");
  }

  key(k: string): void {
    if (this.options.finishOnKey.includes(k)) this.stop(k);
  }

  /** Ends the recording: `digits` is the key that ended it, "hangup", or "" (silence, maximum length). */
  stop(digits: string): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#silenceTimer);
    let pcm: Int16Array = this.#pcm.subarray(0, this.#end);
    if (this.options.trimSilence) pcm = trim(pcm);
    this.#finish({ wav: wavFromPcm(pcm), durationMs: Math.round((pcm.length * 1000) / RATE), digits });
  }

  #armSilence(): void {
    clearTimeout(this.#silenceTimer);
    if (this.options.timeoutMs > 0)
      this.#silenceTimer = setTimeout(() => this.stop(""), this.options.timeoutMs);
  }

  #grow(samples: number): void {
    if (samples <= this.#pcm.length) return;
    const bigger = new Int16Array(Math.max(samples, this.#pcm.length * 2));
    bigger.set(this.#pcm);
    this.#pcm = bigger;
  }
}

function loud(pcm: Int16Array): boolean {
  let sum = 0;
  for (const s of pcm) sum += Math.abs(s);
  return pcm.length > 0 && sum / pcm.length > SOUND_LEVEL;
}

/** Cuts leading and trailing silence, in 20 ms frames. */
export function trim(pcm: Int16Array): Int16Array {
  const frame = 160;
  let start = 0;
  while (start < pcm.length && !loud(pcm.subarray(start, start + frame))) start += frame;
  let end = pcm.length;
  while (end > start && !loud(pcm.subarray(Math.max(start, end - frame), end))) end -= frame;
  return pcm.subarray(start, Math.max(start, end));
}
