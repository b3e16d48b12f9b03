// The far end of a simulated <Dial> leg while its whisper TwiML (`<Number url>`) plays to it: audio
// takes its time on the parent call's clock, nothing is published (the caller hears ringing), and
// the callee answers a whisper <Gather> with the keys its script gives.
import type { CallClock } from "../../clock/call-clock.js";
import { sleep } from "../../clock/clock.js";
import type { Callee } from "../../protocol/offer.js";
import type {
  CallerInput,
  Channel,
  InputListener,
  ListenOptions,
  RecordedAudio,
} from "../../twiml/ports/channel.js";
import type { WebhookClient } from "../../webhook/client.js";
import { mediaDurationMs } from "./media-duration.js";
import { speechDurationMs } from "./simulated-channel.js";

const CALLEE_THINKS_MS = 1000;

export class CalleeChannel implements Channel {
  #digitsUsed = 0;

  constructor(
    private readonly clock: CallClock,
    /** Fetches the media a <Play> plays, to time it. */
    private readonly web: WebhookClient,
    private readonly callee: Callee | undefined,
  ) {}

  async ring(): Promise<void> {}
  async answer(): Promise<void> {}

  async say(text: string, _options: { voice: string; language: string }, signal: AbortSignal): Promise<void> {
    await sleep(this.clock, speechDurationMs(text), signal);
  }

  async play(url: string, _options: { digits?: string }, signal: AbortSignal): Promise<void> {
    const ms = await this.clock.holding(() => mediaDurationMs(this.web, url, signal));
    await sleep(this.clock, ms, signal);
  }

  async pause(seconds: number, signal: AbortSignal): Promise<void> {
    await sleep(this.clock, seconds * 1000, signal);
  }

  /**
   * The callee's next keys (one script entry per Gather; a lone string answers the first), a second
   * after the prompts; else silence until the timeout.
   */
  listen(options: ListenOptions, signal: AbortSignal): InputListener {
    const script = this.callee?.digits;
    const entries = typeof script === "string" ? [script] : (script ?? []);
    const keys = entries[this.#digitsUsed];
    this.#digitsUsed++;
    const pressed = keys !== undefined && options.input.includes("dtmf");
    return {
      started: new Promise(() => {}),
      result: async (): Promise<CallerInput> => {
        if (!pressed) {
          await sleep(this.clock, options.timeoutMs, signal);
          return { digits: "" };
        }
        await sleep(this.clock, CALLEE_THINKS_MS, signal);
        const end = keys.indexOf(options.finishOnKey);
        let digits = end >= 0 && options.finishOnKey !== "" ? keys.slice(0, end) : keys;
        if (options.numDigits !== undefined) digits = digits.slice(0, options.numDigits);
        return { digits };
      },
      close: () => {},
    };
  }

  async record(): Promise<RecordedAudio> {
    throw new Error("a whisper cannot <Record>");
  }

  async hangup(): Promise<void> {}
  async reject(): Promise<void> {}

  bridge(): Promise<undefined> {
    return new Promise(() => {});
  }
}
