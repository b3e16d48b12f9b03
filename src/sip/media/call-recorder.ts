// A whole call recorded on its gateway (a REST call's `Record=true`): what the party said (its RTP,
// placed by timestamp) and what it heard (every 20 ms frame sent to it), mixed or in two channels.
import type { RtpPacket } from "../rtp/packet.js";
import { wavFromPcm } from "../rtp/wav.js";
import type { Recording } from "./recorder.js";

const RATE = 8000;
/** Samples in one 20 ms frame of the sent stream. */
const FRAME = 160;
/** Twilio's longest call: nothing past it is kept. */
const MAX_SAMPLES = RATE * 3600 * 4;

/** One track's samples, growing as the call goes on. */
class Track {
  pcm = new Int16Array(RATE * 10);
  /** Samples from the recording's start to the end of the furthest audio placed. */
  end = 0;

  place(at: number, samples: Int16Array): void {
    const end = Math.min(at + samples.length, MAX_SAMPLES);
    if (at < 0 || end <= at) return;
    if (end > this.pcm.length) {
      const bigger = new Int16Array(Math.min(MAX_SAMPLES, Math.max(end, this.pcm.length * 2)));
      bigger.set(this.pcm);
      this.pcm = bigger;
    }
    this.pcm.set(samples.subarray(0, end - at), at);
    this.end = Math.max(this.end, end);
  }
}

export class CallRecorder {
  /** What the party heard: frame n of its stream at n·20 ms from the answer, so its length is the call's. */
  readonly #heard = new Track();
  /** What the party said, on the same time line as `#heard`. */
  readonly #said = new Track();
  /** Where the party's current RTP source starts on the time line (its first packet's timestamp). */
  #base: { ssrc: number; timestamp: number; at: number } | undefined;
  #done = false;

  constructor(readonly channels: "mono" | "dual") {}

  /** Frame `frame` of the stream sent to the party (which starts with the recording, at the answer). */
  sent(pcm: Int16Array, frame: number): void {
    if (!this.#done) this.#heard.place(frame * FRAME, pcm);
  }

  /** A packet from the party: placed by its timestamp, so reordered ones land in order and lost ones leave silence. */
  audio(packet: RtpPacket, pcm: Int16Array): void {
    if (this.#done) return;
    // A new source (the first, or the phone restarted its stream) starts where the call is now.
    if (this.#base === undefined || this.#base.ssrc !== packet.ssrc)
      this.#base = {
        ssrc: packet.ssrc,
        timestamp: packet.timestamp,
        at: Math.max(this.#heard.end, this.#said.end),
      };
    const offset = (packet.timestamp - this.#base.timestamp) | 0;
    if (offset < -RATE || offset > MAX_SAMPLES) return;
    this.#said.place(this.#base.at + offset, pcm);
  }

  /** Ends the recording: the party left (`dual`: channel 1), what it heard right, or both mixed. */
  stop(): Recording {
    this.#done = true;
    const samples = Math.max(this.#heard.end, this.#said.end);
    // Past a track's end its samples are 0 (never written), or past its buffer undefined.
    const said = this.#said.pcm;
    const heard = this.#heard.pcm;
    let pcm: Int16Array;
    if (this.channels === "dual") {
      pcm = new Int16Array(samples * 2);
      for (let i = 0; i < samples; i++) {
        pcm[2 * i] = said[i] ?? 0;
        pcm[2 * i + 1] = heard[i] ?? 0;
      }
    } else {
      pcm = new Int16Array(samples);
      for (let i = 0; i < samples; i++)
        pcm[i] = Math.max(-32768, Math.min(32767, (said[i] ?? 0) + (heard[i] ?? 0)));
    }
    return {
      wav: wavFromPcm(pcm, RATE, this.channels === "dual" ? 2 : 1),
      durationMs: Math.round((samples * 1000) / RATE),
      digits: "",
    };
  }
}
