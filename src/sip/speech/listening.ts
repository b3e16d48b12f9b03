// One speech Gather's listening on the gateway: voice activity detection on the caller's audio
// (speech starts after a few loud frames, ends after speechTimeout of quiet), then the utterance
// goes to the recogniser and its text to the region as channel input on `.in`.
import type { Logger } from "../../log.js";
import type { ChannelIn } from "../../protocol/channel-events.js";
import type { ListenOptions } from "../../protocol/sip-commands.js";
import type { Recogniser } from "./recogniser.js";

/** A 20 ms frame louder than this RMS (of 32767: about −38 dBFS) is voiced; line noise is far below. */
const VOICED_RMS = 400;
/** Voiced frames in a row that start speech (60 ms: a click or a key's tone edge is shorter). */
const START_FRAMES = 3;
/** Audio kept from before speech was detected, so the first syllable is not cut (ms, at 8 kHz). */
const PRE_ROLL_SAMPLES = 300 * 8;
/** speechTimeout="auto": the pause that ends an utterance (Twilio's is about a second). */
export const AUTO_END_MS = 1_000;
/** Twilio's maxSpeechTime default: an utterance is cut at 60 s. */
const MAX_SPEECH_SAMPLES = 60 * 8000;

export class SpeechListening {
  #state: "waiting" | "speaking" | "done" = "waiting";
  #loudRun = 0;
  #pre: Int16Array[] = [];
  #preSamples = 0;
  #utterance: Int16Array[] = [];
  #samples = 0;
  #endTimer: NodeJS.Timeout | undefined;
  readonly #endMs: number;

  constructor(
    private readonly options: ListenOptions,
    private readonly recogniser: Recogniser,
    /** Sends channel input to the region. */
    private readonly emit: (event: ChannelIn) => void,
    private readonly log: Logger,
    /** Called once when this listening is over (result sent, or stopped). */
    private readonly onDone: () => void,
  ) {
    this.#endMs = options.speechTimeoutMs === "auto" ? AUTO_END_MS : Math.max(options.speechTimeoutMs, 200);
  }

  /** One frame of the caller's audio (8 kHz PCM). */
  audio(pcm: Int16Array): void {
    if (this.#state === "done") return;
    const voiced = rms(pcm) > VOICED_RMS;
    if (this.#state === "waiting") {
      this.#pre.push(pcm);
      this.#preSamples += pcm.length;
      while (this.#preSamples - (this.#pre[0]?.length ?? 0) >= PRE_ROLL_SAMPLES) {
        this.#preSamples -= this.#pre.shift()?.length ?? 0;
      }
      this.#loudRun = voiced ? this.#loudRun + 1 : 0;
      if (this.#loudRun < START_FRAMES) return;
      this.#state = "speaking";
      this.#utterance = this.#pre;
      this.#samples = this.#preSamples;
      this.#pre = [];
      this.emit({ kind: "speechStarted" });
      this.#armEnd();
      return;
    }
    this.#utterance.push(pcm);
    this.#samples += pcm.length;
    if (this.#samples >= MAX_SPEECH_SAMPLES) return void this.#end();
    // The end of speech is timed by the clock, not by frames: a phone may send nothing while quiet.
    if (voiced) this.#armEnd();
  }

  /** The Gather is over (or was cancelled): nothing more is sent. */
  stop(): void {
    if (this.#state === "done") return;
    this.#state = "done";
    clearTimeout(this.#endTimer);
    this.onDone();
  }

  /** Stopped meanwhile (read through a method: the state changes across an await). */
  #over(): boolean {
    return this.#state === "done";
  }

  #armEnd(): void {
    clearTimeout(this.#endTimer);
    this.#endTimer = setTimeout(() => void this.#end(), this.#endMs);
  }

  async #end(): Promise<void> {
    if (this.#state !== "speaking") return;
    clearTimeout(this.#endTimer);
    const pcm = concat(this.#utterance, this.#samples);
    this.#utterance = [];
    const started = performance.now();
    try {
      const { language, hints } = this.options;
      const result = await this.recogniser.recognise({ pcm, hints, language });
      this.log.debug(
        { ms: Math.round(performance.now() - started), audioMs: pcm.length / 8, text: result.text },
        "speech recognised",
      );
      if (this.#over()) return;
      if (result.text === "") this.emit({ kind: "speechEnded" });
      else
        this.emit({
          kind: "speech",
          text: result.text.slice(0, 4096),
          ...(result.confidence !== undefined && { confidence: result.confidence }),
        });
    } catch (err) {
      // A recogniser that fails is the operator's to fix; the caller's Gather goes on without speech.
      this.log.warn({ err }, "speech recogniser failed");
      if (!this.#over()) this.emit({ kind: "speechEnded" });
    } finally {
      this.stop();
    }
  }
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return pcm.length === 0 ? 0 : Math.sqrt(sum / pcm.length);
}

function concat(parts: Int16Array[], samples: number): Int16Array {
  const out = new Int16Array(samples);
  let at = 0;
  for (const p of parts) {
    out.set(p.subarray(0, samples - at), at);
    at += Math.min(p.length, samples - at);
  }
  return out;
}
