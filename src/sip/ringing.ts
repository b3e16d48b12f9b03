// What a caller hears while its dialled leg rings (sip-legs.ts `ringingTo`): the callee's early media
// (183 with SDP) relayed to it, else a ring-back tone once it is answered; unanswered itself
// (answerOnBridge), it is sent 180, or 183 with our SDP when early media is relayed.
import { Relay } from "./media/relay.js";
import { ringTone, ringToneFrames } from "./media/ring-tones.js";
import type { SipCall } from "./sip-call.js";

export class Ringing {
  #ac: AbortController | undefined;
  #mode: "tone" | "early" | "ringing" | undefined;
  #stopped = false;
  #tap: SipCall["tap"];

  constructor(
    private readonly parent: SipCall | undefined,
    private readonly leg: SipCall,
    private readonly tone: string | undefined,
  ) {}

  /** The leg rings (180), or sends early media (183 with SDP). */
  ringing(earlyMedia: boolean): void {
    const { parent } = this;
    if (this.#stopped || !parent || parent.ended) return;
    if (earlyMedia) {
      if (this.#mode === "early") return;
      this.#stopMedia();
      this.#mode = "early";
      if (!parent.answered) parent.earlyMedia();
      const relay = new Relay();
      this.#tap = { audio: (packet, pcm) => relay.push(packet, pcm), key: () => {} };
      this.leg.tap = this.#tap;
      this.#play(() => relay.next());
      return;
    }
    if (this.#mode !== undefined) return;
    if (!parent.answered) {
      // The caller's phone plays its own ring-back on 180.
      this.#mode = "ringing";
      parent.ring();
      return;
    }
    this.#mode = "tone";
    const frames = ringToneFrames(ringTone(this.tone));
    this.#play(() => ({ kind: "audio", pcm: frames() }));
  }

  /** The leg was answered or failed: the caller hears no more of its ringing. */
  stop(): void {
    this.#stopped = true;
    this.#stopMedia();
  }

  #play(next: Parameters<SipCall["rtp"]["stream"]>[0]): void {
    const ac = new AbortController();
    this.#ac = ac;
    // Ends when stopped, or when the caller's stream closes or another prompt replaces it.
    this.parent?.rtp.stream(next, ac.signal).catch(() => {});
  }

  #stopMedia(): void {
    this.#ac?.abort(new Error("the leg stopped ringing"));
    this.#ac = undefined;
    if (this.#tap && this.leg.tap === this.#tap) this.leg.tap = undefined;
    this.#tap = undefined;
  }
}
