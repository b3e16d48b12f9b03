// The built-in channel: no audio, only time. Each command is published on the call's `.out`
// subject for whoever watches (the `call` CLI, the visualizer) and lasts as long as the audio
// would, on the call's clock. The simulated caller's script (from the offer) plays here, in the
// call's own time, so `--time-scale 0` stays deterministic.

import type { CallClock } from "../../clock/call-clock.js";
import { sleep } from "../../clock/clock.js";
import { encodeWav } from "../../media/wav.js";
import type { CallerEvent, ChannelOut } from "../../protocol/channel-events.js";
import type { CallerScript } from "../../protocol/offer.js";
import type {
  BridgeLeg,
  Channel,
  InputListener,
  ListenOptions,
  RecordedAudio,
  RecordOptions,
} from "../../twiml/ports/channel.js";
import type { WebhookClient } from "../../webhook/client.js";
import { type LiveListener, listenForGather } from "./gather-listener.js";
import { mediaDurationMs } from "./media-duration.js";
import { type ListenerSlot, untilStar } from "./star-wait.js";

// The simulated caller answers a Gather a second after its prompts end, pressing a key every
// 250 ms, and speaks at about 15 characters a second.
const CALLER_THINKS_MS = 1000;
const KEY_INTERVAL_MS = 250;
// Text-to-speech speaks about 15 characters a second (≈ 170 words a minute).
const SPEECH_MS_PER_CHAR = 65;
const MIN_SPEECH_MS = 300;
// <Play digits>: each key is a 100 ms tone and a 100 ms gap; `w` waits 0.5 s and `W` 1 s (Twilio).
const DTMF_KEY_MS = 200;
const DTMF_PAUSE_MS: Record<string, number> = { w: 500, W: 1000 };

export function speechDurationMs(text: string): number {
  return Math.max(MIN_SPEECH_MS, text.trim().length * SPEECH_MS_PER_CHAR);
}

/** What a resumed call needs to carry on the caller's script where it was. */
export interface ChannelState {
  digitsUsed: number;
  speechUsed: number;
  /** Absent in snapshots stored before <Record> existed. */
  recordingsUsed?: number;
  /** Entries of the script's `starAfter` used by bridges so far. */
  starsUsed?: number;
  /**
   * The <Record> running (its RecordingSid as key, its script entry, when it began): a resumed call's
   * same <Record> goes on with it rather than taking the caller's next entry.
   */
  recording?: { key: string; take: number; startedAt: number };
}

export class SimulatedChannel implements Channel {
  #hangupTimer: unknown;
  #digitsUsed = 0;
  #speechUsed = 0;
  #starsUsed = 0;
  #listener: LiveListener | undefined;
  #recordingsUsed = 0;
  #recording: ChannelState["recording"];
  /** Live keys go here while a Record runs. */
  #recorder: ((key: string) => void) | undefined;
  /** Set before the call hears of it, so a cancelled Record can tell a hang-up from a hand-over. */
  #callerGone = false;

  constructor(
    private readonly clock: CallClock,
    /** Fetches the media a <Play> plays, to time it. */
    private readonly web: WebhookClient,
    private readonly publish: (event: ChannelOut) => void,
    private readonly script: CallerScript | undefined,
    /** Called when the simulated caller hangs up. */
    private readonly onCallerHangup: () => void,
    resumed?: ChannelState,
  ) {
    this.#digitsUsed = resumed?.digitsUsed ?? 0;
    this.#speechUsed = resumed?.speechUsed ?? 0;
    this.#recordingsUsed = resumed?.recordingsUsed ?? 0;
    this.#starsUsed = resumed?.starsUsed ?? 0;
    this.#recording = resumed?.recording;
  }

  state(): ChannelState {
    return {
      digitsUsed: this.#digitsUsed,
      speechUsed: this.#speechUsed,
      recordingsUsed: this.#recordingsUsed,
      starsUsed: this.#starsUsed,
      ...(this.#recording && { recording: this.#recording }),
    };
  }

  /** A resumed call that was answered: the caller still hangs up when the script says. */
  resumeScript(answeredAt: number | null): void {
    const after = this.script?.hangupAfter;
    if (after === undefined || answeredAt === null) return;
    const remaining = answeredAt + after * 1000 - this.clock.now();
    this.#hangupTimer = this.clock.setTimeout(() => this.callerHungUp(), Math.max(0, remaining));
  }

  /** The caller hung up (the script's time came, or live input on `.in`). */
  callerHungUp(): void {
    this.#callerGone = true;
    this.onCallerHangup();
  }

  async ring(): Promise<void> {
    this.publish({ kind: "ringing" });
  }

  async answer(): Promise<void> {
    this.publish({ kind: "answer" });
    const after = this.script?.hangupAfter;
    if (after !== undefined)
      this.#hangupTimer = this.clock.setTimeout(() => this.callerHungUp(), after * 1000);
  }

  async say(text: string, options: { voice: string; language: string }, signal: AbortSignal): Promise<void> {
    this.publish({ kind: "say", text, voice: options.voice, language: options.language });
    await sleep(this.clock, speechDurationMs(text), signal);
  }

  async play(url: string, options: { digits?: string }, signal: AbortSignal): Promise<void> {
    if (options.digits !== undefined) {
      this.publish({ kind: "digits", digits: options.digits });
      let ms = 0;
      for (const k of options.digits) ms += DTMF_PAUSE_MS[k] ?? DTMF_KEY_MS;
      await sleep(this.clock, ms, signal);
    }
    // A digits-only <Play digits="…"/> has no media.
    if (url === "") return;
    this.publish({ kind: "play", url });
    const ms = await this.clock.holding(() => mediaDurationMs(this.web, url, signal));
    await sleep(this.clock, ms, signal);
  }

  // Not async (a parked call waits here: no generator kept per call). A publish that throws rejects.
  pause(seconds: number, signal: AbortSignal): Promise<void> {
    try {
      this.publish({ kind: "pause", length: seconds });
    } catch (err) {
      return Promise.reject(err);
    }
    return sleep(this.clock, seconds * 1000, signal);
  }

  listen(options: ListenOptions, signal: AbortSignal): InputListener {
    const scripted: unknown[] = [];
    const { listener, live } = listenForGather(this.clock, options, signal, {
      ended: () => {
        for (const t of scripted) this.clock.clearTimeout(t);
        if (this.#listener === live) this.#listener = undefined;
      },
      promptsOver: (l) => this.#playScript(options, l, scripted),
    });
    this.#listener = live;
    this.publish({ kind: "gather", input: [...options.input], finishOnKey: options.finishOnKey });
    return listener;
  }

  /** Live input from `.in` (an interactive caller): keys and speech go to the listening Gather. */
  input(event: CallerEvent): void {
    if (event.kind === "digits") {
      for (const k of event.digits) {
        this.#listener?.key(k);
        this.#recorder?.(k);
      }
    } else if (event.kind === "speech" && !event.partial) this.#listener?.speak(event.text);
  }

  /** The script's next answer for this Gather: keys if it takes keys and some are left, else speech. */
  #playScript(options: ListenOptions, live: LiveListener, timers: unknown[]): void {
    const keys = this.script?.digits?.[this.#digitsUsed];
    const words = this.script?.speech?.[this.#speechUsed];
    let at = CALLER_THINKS_MS;
    if (options.input.includes("dtmf") && keys !== undefined) {
      this.#digitsUsed++;
      for (const k of keys) {
        timers.push(this.clock.setTimeout(() => live.key(k), at));
        at += KEY_INTERVAL_MS;
      }
    } else if (options.input.includes("speech") && words !== undefined) {
      this.#speechUsed++;
      // The caller starts talking: as a recogniser hears it, the Gather's timeout stops (it waits for
      // the words, however long they take to say), and a listener heard within the timeout is input.
      timers.push(this.clock.setTimeout(() => live.speechStarted?.(), at));
      const { onPartialSpeech } = options;
      if (onPartialSpeech) {
        // The recogniser's unstable results: the words so far, as each is spoken.
        const spoken = words.trim().split(/\s+/);
        spoken.forEach((_w, i) => {
          const prefix = spoken.slice(0, i + 1).join(" ");
          timers.push(this.clock.setTimeout(() => onPartialSpeech(prefix), at + speechDurationMs(prefix)));
        });
      }
      timers.push(this.clock.setTimeout(() => live.speak(words), at + speechDurationMs(words)));
    }
  }

  /**
   * The caller's next scripted recording: talk (a quiet tone) for its length, then press its key or
   * fall silent until `timeout` ends it. With no script entry the caller is silent from the start. The
   * same <Record> run again by a resumed call (the same key) goes on with the take it had, from when
   * it began, without a second beep.
   */
  record(options: RecordOptions, signal: AbortSignal): Promise<RecordedAudio> {
    const { clock } = this;
    const going =
      options.key !== undefined && this.#recording?.key === options.key ? this.#recording : undefined;
    const index = going?.take ?? this.#recordingsUsed;
    const take = this.script?.recordings?.[index];
    if (!going && take !== undefined) this.#recordingsUsed++;
    const start = going?.startedAt ?? clock.now();
    this.#recording =
      options.key === undefined ? undefined : { key: options.key, take: index, startedAt: start };
    const speechMs =
      take?.seconds !== undefined ? take.seconds * 1000 : take?.text ? speechDurationMs(take.text) : 0;
    this.publish({
      kind: "record",
      finishOnKey: options.finishOnKey,
      timeout: options.timeoutMs / 1000,
      maxLength: options.maxLengthMs / 1000,
      beep: options.playBeep && !going,
    });
    // Each of the take's moments, counted from its start (in the past for a take going on).
    const after = (ms: number) => Math.max(0, start + ms - clock.now());
    return new Promise((resolve) => {
      const timers: unknown[] = [];
      let done = false;
      const finish = (digits: string) => {
        if (done) return;
        done = true;
        for (const t of timers) clock.clearTimeout(t);
        signal.removeEventListener("abort", hungUp);
        this.#recorder = undefined;
        // Over, unless cancelled with the caller still there: the next worker's same <Record> goes on
        // with it after a hand-over (a redirect's next <Record> has another key).
        if (!signal.aborted || this.#callerGone) this.#recording = undefined;
        const elapsed = Math.min(clock.now() - start, options.maxLengthMs);
        const spoken = Math.min(elapsed, speechMs);
        // Trimming cuts the silence after the caller's words (they start talking at once).
        const silence = options.trimSilence ? 0 : elapsed - spoken;
        resolve({
          wav: encodeWav([
            { ms: spoken, speech: true },
            { ms: silence, speech: false },
          ]),
          durationMs: spoken + silence,
          digits,
          ...(take?.text && spoken > 0 && { transcript: take.text }),
        });
      };
      // Cancelled without a hang-up (the call was redirected or handed to another worker): "".
      const hungUp = () => finish(this.#callerGone ? "hangup" : "");
      if (signal.aborted) return hungUp();
      signal.addEventListener("abort", hungUp, { once: true });
      this.#recorder = (k) => {
        if (options.finishOnKey.includes(k)) finish(k);
      };
      timers.push(clock.setTimeout(() => finish(""), after(options.maxLengthMs)));
      const key = take?.key;
      if (key !== undefined && options.finishOnKey.includes(key)) {
        timers.push(clock.setTimeout(() => finish(key), after(speechMs)));
      } else if (options.timeoutMs > 0) {
        timers.push(clock.setTimeout(() => finish(""), after(speechMs + options.timeoutMs)));
      }
    });
  }

  /**
   * A <Dial> bridge: the caller's `*` (live on `.in`, or the script's next `starAfter`) ends it when
   * `hangupOnStar` is set; other keys go nowhere, as on Twilio.
   */
  async bridge(leg: BridgeLeg, signal: AbortSignal): Promise<undefined> {
    this.publish({ kind: "dial", callSid: leg.callSid, to: leg.to });
    await this.#untilStar(leg.hangupOnStar, signal);
    return undefined;
  }

  /** The caller's `*` in a conference or a queue bridge: live on `.in`, or the script's next `starAfter`. */
  star(signal: AbortSignal): Promise<void> {
    return this.#untilStar(true, signal);
  }

  /** Until the caller presses `*` (when `heard`; any other key goes nowhere) or `signal` aborts. */
  #untilStar(heard: boolean, signal: AbortSignal): Promise<void> {
    const starAfter = this.script?.starAfter?.[this.#starsUsed];
    if (starAfter !== undefined) this.#starsUsed++;
    const slot: ListenerSlot = {
      take: (live) => {
        this.#listener = live;
      },
      release: (live) => {
        if (this.#listener === live) this.#listener = undefined;
      },
    };
    // The script's next `*` presses itself that many seconds into this wait.
    return untilStar(slot, signal, heard, (live) => {
      if (starAfter === undefined) return () => {};
      const timer = this.clock.setTimeout(() => live.key("*"), starAfter * 1000);
      return () => this.clock.clearTimeout(timer);
    });
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
