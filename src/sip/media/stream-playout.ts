// What a bidirectional Media Stream's app sends back, played to the caller: its `media` queued in order
// and pulled 20 ms at a time by the RTP session, its `mark`s answered when the audio before them has
// gone out, and `clear`, which drops the queue and answers every mark still waiting (as Twilio does).
import { decodeG711 } from "../rtp/g711.js";
import { FRAME_SAMPLES } from "./rtp-session.js";

type Item = { pcm: Int16Array; at: number } | { mark: string };

export interface PlayoutSink {
  /** Plays frames pulled from `next` until it has none (RtpSession.feed). */
  feed(next: () => Int16Array | undefined, signal: AbortSignal): Promise<void>;
}

export class StreamPlayout {
  readonly #items: Item[] = [];
  #playing: AbortController | undefined;

  constructor(
    private readonly sink: PlayoutSink,
    /** A mark whose audio has played (or was cleared): sent back to the app. */
    private readonly echo: (name: string) => void,
  ) {}

  /** Queues μ-law 8 kHz audio after what is already queued. */
  media(ulaw: Uint8Array): void {
    if (ulaw.length === 0) return;
    this.#items.push({ pcm: decodeG711("PCMU", ulaw), at: 0 });
    this.#play();
  }

  /** Answered once the audio queued before it has been sent; at once when nothing is queued. */
  mark(name: string): void {
    if (this.#items.length === 0) this.echo(name);
    else this.#items.push({ mark: name });
  }

  clear(): void {
    for (const item of this.#items.splice(0)) if ("mark" in item) this.echo(item.mark);
  }

  /** The stream is over: nothing more plays, and waiting marks are dropped with it. */
  close(): void {
    this.#items.length = 0;
    this.#playing?.abort(new Error("stream closed"));
    this.#playing = undefined;
  }

  #play(): void {
    if (this.#playing) return;
    const ac = new AbortController();
    this.#playing = ac;
    const done = () => {
      if (this.#playing === ac) this.#playing = undefined;
      // Audio queued after a prompt superseded this one (or after the queue ran dry) plays on.
      if (this.#items.length > 0 && !ac.signal.aborted) this.#play();
    };
    this.sink.feed(() => this.#next(), ac.signal).then(done, done);
  }

  /** The next 20 ms frame, or undefined when nothing is queued (the feed ends; the next media restarts it). */
  #next(): Int16Array | undefined {
    const frame = new Int16Array(FRAME_SAMPLES);
    let filled = 0;
    while (filled < FRAME_SAMPLES) {
      const head = this.#items[0];
      if (!head) break;
      if ("mark" in head) {
        // Called as the frame before went out: a mark at the head has had all its audio sent.
        if (filled > 0) break;
        this.#items.shift();
        this.echo(head.mark);
        continue;
      }
      const n = Math.min(FRAME_SAMPLES - filled, head.pcm.length - head.at);
      frame.set(head.pcm.subarray(head.at, head.at + n), filled);
      filled += n;
      head.at += n;
      if (head.at >= head.pcm.length) this.#items.shift();
    }
    return filled > 0 ? frame : undefined;
  }
}
