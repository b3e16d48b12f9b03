// Audio carried from one call's RTP to another's: a jitter buffer placing each decoded packet by its
// RTP timestamp, which the receiving stream's pacer reads a frame from every 20 ms a fixed delay
// behind (on that stream's own timestamps, sequence, SSRC and codec, so PCMU↔PCMA transcoding is the
// decode here and the encode there). A late packet leaves its 20 ms silent rather than shifting what
// follows; keys become RFC 4733 events on the way.
import type { RtpPacket } from "../rtp/packet.js";
import { eventOf } from "../rtp/telephone-event.js";
import { FRAME_SAMPLES, type Frame } from "./rtp-session.js";

/** How far behind the source the far end hears it: covers a late packet or a stalled event loop. */
const DELAY_SAMPLES = 8 * 100;
/** The buffer: a second and a half of audio, by position. */
const RING = 8000 * 1.5;
/** Further ahead than this (the source's clock ran fast, or our stream skipped time): start again. */
const MAX_AHEAD = 8 * 400;
/** This many packets in a row too late to play: the source's clock ran slow, start again. */
const LATE_RUN = 5;

export class Relay {
  readonly #ring = new Int16Array(RING);
  readonly #has = new Uint8Array(RING);
  /** The next sample position the receiving stream plays. */
  #read = 0;
  /** Where the source's timestamps are placed: its SSRC, a timestamp and the position it plays at. */
  #anchor: { ssrc: number; timestamp: number; at: number } | undefined;
  #late = 0;
  readonly #events: Frame[] = [];
  /** Called with each frame sent on (what the far party hears), for a bridge's recording. */
  onFrame: ((pcm: Int16Array) => void) | undefined;

  /** Audio heard on the source call. */
  push(packet: Pick<RtpPacket, "ssrc" | "timestamp">, pcm: Int16Array): void {
    let at = this.#position(packet);
    if (at === undefined || at - this.#read > MAX_AHEAD) at = this.#anchorAt(packet);
    if (at + pcm.length <= this.#read) {
      if (++this.#late < LATE_RUN) return;
      at = this.#anchorAt(packet);
    }
    this.#late = 0;
    for (let i = 0; i < pcm.length; i++) {
      const p = at + i;
      if (p < this.#read) continue;
      this.#ring[p % RING] = pcm[i] as number;
      this.#has[p % RING] = 1;
    }
  }

  /** A key pressed on the source call: 100 ms of RFC 4733 event, then 60 ms of silence. */
  key(k: string): void {
    const event = eventOf(k);
    if (event === undefined) return;
    for (let i = 1; i <= 5; i++)
      this.#events.push({ kind: "event", event, end: i === 5, duration: i * FRAME_SAMPLES, start: i === 1 });
    for (let i = 0; i < 3; i++) this.#events.push({ kind: "audio", pcm: new Int16Array(FRAME_SAMPLES) });
  }

  /** The next 20 ms for the receiving stream: a key's event, relayed audio, or silence where there is none. */
  next = (): Frame => {
    const pcm = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const p = (this.#read + i) % RING;
      if (this.#has[p]) pcm[i] = this.#ring[p] as number;
      this.#has[p] = 0;
    }
    this.#read += FRAME_SAMPLES;
    // During a key the source sends events, not audio; what audio there is keeps its place in time.
    const event = this.#events.shift();
    if (event) {
      this.onFrame?.(event.kind === "audio" ? event.pcm : new Int16Array(FRAME_SAMPLES));
      return event;
    }
    this.onFrame?.(pcm);
    return { kind: "audio", pcm };
  };

  #position(packet: Pick<RtpPacket, "ssrc" | "timestamp">): number | undefined {
    const a = this.#anchor;
    if (!a || a.ssrc !== packet.ssrc) return undefined;
    return a.at + ((packet.timestamp - a.timestamp) | 0);
  }

  /** Places this packet a delay ahead of what plays now, and the source's next ones after it. */
  #anchorAt(packet: Pick<RtpPacket, "ssrc" | "timestamp">): number {
    const at = this.#read + DELAY_SAMPLES;
    this.#anchor = { ssrc: packet.ssrc, timestamp: packet.timestamp, at };
    this.#late = 0;
    this.#has.fill(0);
    return at;
  }
}
