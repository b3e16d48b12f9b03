// The built-in channel: no audio, only time. Each command is published on the call's `.out`
// subject for whoever watches (the `call` CLI, the visualizer) and lasts as long as the audio
// would, on the call's clock. The simulated caller's script (from the offer) plays here, in the
// call's own time, so `--time-scale 0` stays deterministic.

import type { CallClock } from "../clock/call-clock.js";
import { sleep } from "../clock/clock.js";
import type { CallerScript } from "../model/offer.js";
import type { Channel } from "../twiml/types.js";
import type { ChannelOut } from "./channel-events.js";
import { mediaDurationMs } from "./media-duration.js";

// Text-to-speech speaks about 15 characters a second (≈ 170 words a minute).
const SPEECH_MS_PER_CHAR = 65;
const MIN_SPEECH_MS = 300;

export function speechDurationMs(text: string): number {
  return Math.max(MIN_SPEECH_MS, text.trim().length * SPEECH_MS_PER_CHAR);
}

export class SimulatedChannel implements Channel {
  #hangupTimer: unknown;

  constructor(
    private readonly clock: CallClock,
    private readonly publish: (event: ChannelOut) => void,
    private readonly script: CallerScript | undefined,
    /** Called when the simulated caller hangs up. */
    private readonly onCallerHangup: () => void,
  ) {}

  async ring(): Promise<void> {
    this.publish({ kind: "ringing" });
  }

  async answer(): Promise<void> {
    this.publish({ kind: "answer" });
    const after = this.script?.hangupAfter;
    if (after !== undefined) this.#hangupTimer = this.clock.setTimeout(this.onCallerHangup, after * 1000);
  }

  async say(text: string, options: { voice: string; language: string }, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "say", text, voice: options.voice, language: options.language });
    await sleep(this.clock, speechDurationMs(text), signal);
  }

  async play(url: string, _options: { digits?: string }, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "play", url });
    const ms = await this.clock.holding(() => mediaDurationMs(url, signal));
    await sleep(this.clock, ms, signal);
  }

  async pause(seconds: number, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "pause", length: seconds });
    await sleep(this.clock, seconds * 1000, signal);
  }

  async hangup(): Promise<void> {
    this.#cancelScript();
    this.publish({ kind: "hangup" });
  }

  async reject(reason: "rejected" | "busy"): Promise<void> {
    this.#cancelScript();
    this.publish({ kind: "reject", reason });
  }

  #cancelScript(): void {
    if (this.#hangupTimer !== undefined) this.clock.clearTimeout(this.#hangupTimer);
  }
}
