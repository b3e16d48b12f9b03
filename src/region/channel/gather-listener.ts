// One <Gather>'s listening, the same whatever carries the call's audio (the simulated channel, a SIP
// gateway): keys until finishOnKey or numDigits, speech until its own silence, and the Gather's
// timeout counted from the end of its prompts, all on the call's clock.
import type { Clock } from "../../clock/clock.js";
import type { CallerInput, InputListener, ListenOptions } from "../../twiml/ports/channel.js";

/** What the caller sends while a Gather listens. */
export interface LiveListener {
  key(k: string): void;
  speak(text: string): void;
  /** A recogniser heard speech start: barge-in, and the Gather waits for its result, not its timeout. */
  speechStarted?(): void;
  /** A recogniser's final result, after its own end of speech: the Gather ends with it at once. */
  recognised?(text: string, confidence: number | undefined): void;
  /** The recogniser found no words in what it heard: the Gather ends without speech. */
  speechEnded?(): void;
  /** An unstable result while the caller still speaks. */
  partial?(text: string): void;
}

export interface GatherListening {
  /** What the Gather verb holds. */
  readonly listener: InputListener;
  /** Where the channel delivers the caller's keys and words. */
  readonly live: LiveListener;
}

/** The speech recogniser's confidence for simulated speech (and a recogniser that gives none). */
const SPEECH_CONFIDENCE = 0.92;
/** Twilio's longest utterance (maxSpeechTime) and time to recognise it: the bound on a started speech. */
const LONGEST_SPEECH_MS = 70_000;

export function listenForGather(
  clock: Clock,
  options: ListenOptions,
  signal: AbortSignal,
  hooks: {
    /** The Gather has its input (or gave up): the channel stops routing input here. */
    ended(): void;
    /** The prompts are over and the Gather waits: a scripted caller answers now. */
    promptsOver?(live: LiveListener): void;
  },
): GatherListening {
  let started!: () => void;
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  let finish!: (input: CallerInput) => void;
  const resultP = new Promise<CallerInput>((r) => {
    finish = r;
  });
  let digits = "";
  let speech: CallerInput["speech"];
  let done = false;
  let promptsOver = false;
  let speaking = false;
  let timer: unknown;
  const end = () => {
    if (done) return;
    done = true;
    clock.clearTimeout(timer);
    hooks.ended();
    finish(speech ? { digits, speech } : { digits });
  };
  const rearm = (ms: number) => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(end, ms);
  };
  // With input="dtmf speech" whichever the Gather hears first wins (Twilio): once speech is heard,
  // keys (finishOnKey too) are ignored, and once a key is pressed, speech is.
  const heardSpeech = () => speaking || speech !== undefined;
  const takesSpeech = () => !done && options.input.includes("speech") && digits === "";
  const live: LiveListener = {
    key: (k) => {
      if (done || !options.input.includes("dtmf") || heardSpeech()) return;
      started();
      if (k === options.finishOnKey) {
        // Twilio: finishOnKey "only works when a digit sequence precedes it"; alone it is no input and
        // ends nothing (the Gather keeps listening, its timeout unchanged).
        if (digits !== "") end();
        return;
      }
      digits += k;
      if (options.numDigits !== undefined && digits.length >= options.numDigits) return end();
      if (promptsOver) rearm(options.timeoutMs);
    },
    speak: (text) => {
      if (!takesSpeech()) return;
      started();
      speech = { text, confidence: SPEECH_CONFIDENCE };
      rearm(options.speechTimeoutMs);
    },
    speechStarted: () => {
      if (!takesSpeech()) return;
      started();
      speaking = true;
      rearm(LONGEST_SPEECH_MS);
    },
    recognised: (text, confidence) => {
      if (!takesSpeech()) return;
      started();
      speech = { text, confidence: confidence ?? SPEECH_CONFIDENCE };
      end();
    },
    speechEnded: () => {
      if (done || !speaking) return;
      end();
    },
    partial: (text) => {
      if (!done && options.input.includes("speech")) options.onPartialSpeech?.(text);
    },
  };
  signal.addEventListener("abort", end, { once: true });
  const listener: InputListener = {
    started: startedP,
    result: () => {
      promptsOver = true;
      if (!done) {
        if (!speaking) rearm(options.timeoutMs);
        hooks.promptsOver?.(live);
      }
      return resultP;
    },
    close: end,
  };
  return { listener, live };
}
