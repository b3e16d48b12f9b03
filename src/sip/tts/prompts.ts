// <Say>'s prompts: spoken by the gateway's synthesiser and cached by (text, voice, language), since an
// IVR says the same prompts over and over. A failure is not cached: the next Say tries again.
import { MediaCache } from "../media/media-cache.js";
import { Espeak } from "./espeak.js";
import type { Synthesiser } from "./synthesiser.js";

export class Prompts {
  readonly #cache = new MediaCache<string>(32 * 1024 * 1024);

  constructor(private readonly engine: Synthesiser = new Espeak()) {}

  /** The text spoken in Twilio's voice and language, as 8 kHz PCM (one synthesis per distinct prompt). */
  say(text: string, voice: string, language: string): Promise<Int16Array> {
    // Concurrent Says of one prompt share one synthesis (MediaCache's fetch).
    return this.#cache.get(JSON.stringify([text, voice, language]), async () => ({
      value: await this.engine.synthesise({ text, voice, language }),
      tag: "",
    }));
  }
}
