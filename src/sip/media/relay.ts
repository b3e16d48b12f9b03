// Audio carried from one call's RTP to another's: a small jitter buffer of decoded PCM that the
// receiving stream's pacer pulls a frame from every 20 ms (on that stream's own timestamps, sequence,
// SSRC and codec, so PCMU↔PCMA transcoding is the decode here and the encode there), and keys turned
// into RFC 4733 events on the way.
import { eventOf } from "../rtp/telephone-event.js";
import { FRAME_SAMPLES, type Frame } from "./rtp-session.js";

/** Frames held before playing out (and again after running dry): covers a late packet or two. */
const PRIME_FRAMES = 3;
/** Beyond this much audio waiting (a burst after a stall), the oldest is dropped to keep delay down. */
const MAX_SAMPLES = 8000 * 0.3;

export class Relay {
  #buffer = new Int16Array(MAX_SAMPLES + 8000);
  #length = 0;
  #priming = true;
  readonly #events: Frame[] = [];
  /** Called with each frame sent on (what the far party hears), for a bridge's recording. */
  onFrame: ((pcm: Int16Array) => void) | undefined;

  /** Audio heard on the source call. */
  push(pcm: Int16Array): void {
    if (this.#length + pcm.length > MAX_SAMPLES) {
      const keep = Math.min(this.#length, PRIME_FRAMES * FRAME_SAMPLES);
      this.#buffer.copyWithin(0, this.#length - keep, this.#length);
      this.#length = keep;
    }
    const n = Math.min(pcm.length, this.#buffer.length - this.#length);
    this.#buffer.set(pcm.subarray(0, n), this.#length);
    this.#length += n;
  }

  /** A key pressed on the source call: 100 ms of RFC 4733 event, then 60 ms of silence. */
  key(k: string): void {
    const event = eventOf(k);
    if (event === undefined) return;
    for (let i = 1; i <= 5; i++)
      this.#events.push({ kind: "event", event, end: i === 5, duration: i * FRAME_SAMPLES, start: i === 1 });
    for (let i = 0; i < 3; i++) this.#events.push({ kind: "audio", pcm: new Int16Array(FRAME_SAMPLES) });
  }

  /** The next 20 ms for the receiving stream: a key's event, relayed audio, or silence while there is none. */
  next = (): Frame => {
    const event = this.#events.shift();
    // During a key the source sends events, not audio; what audio there is keeps its place in time.
    const pcm = this.#take();
    if (event) {
      this.onFrame?.(event.kind === "audio" ? event.pcm : new Int16Array(FRAME_SAMPLES));
      return event;
    }
    this.onFrame?.(pcm);
    return { kind: "audio", pcm };
  };

  #take(): Int16Array {
    if (this.#priming && this.#length >= PRIME_FRAMES * FRAME_SAMPLES) this.#priming = false;
    if (this.#priming) return new Int16Array(FRAME_SAMPLES);
    if (this.#length < FRAME_SAMPLES) {
      // Ran dry: wait for a few frames again rather than play each late one as it comes.
      this.#priming = true;
      const pcm = new Int16Array(FRAME_SAMPLES);
      pcm.set(this.#buffer.subarray(0, this.#length));
      this.#length = 0;
      return pcm;
    }
    const pcm = this.#buffer.slice(0, FRAME_SAMPLES);
    this.#buffer.copyWithin(0, FRAME_SAMPLES, this.#length);
    this.#length -= FRAME_SAMPLES;
    return pcm;
  }
}
