// <Say>: text spoken by espeak-ng, resampled by sox to 8 kHz, cached by text, voice and language
// (an IVR says the same prompts over and over). Twilio's voices map to espeak voices: the language
// picks the voice (en-US -> en-us, es-MX -> es), man/woman pick a male/female variant.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { run } from "../../media/run.js";
import { pcmFromBytes } from "./convert.js";
import { MediaCache } from "./media-cache.js";

const RAW_8K = ["-t", "raw", "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "-L", "-"];

export class Speech {
  readonly #cache = new MediaCache<string>(32 * 1024 * 1024);
  #voices: Promise<Set<string>> | undefined;

  /** The call's text as 8 kHz PCM. */
  async say(text: string, voice: string, language: string): Promise<Int16Array> {
    const espeakVoice = await this.voiceFor(voice, language);
    const key = `${espeakVoice}\n${text}`;
    return this.#cache.get(key, async () => {
      const wav = await run("espeak-ng", ["-v", espeakVoice, "--stdout", "-s", "160"], text);
      const raw = await run("sox", ["-V1", "-t", "wav", "-", ...RAW_8K], wav);
      return { value: pcmFromBytes(raw), tag: "" };
    });
  }

  /** Twilio's voice and language as an espeak-ng voice name (`en-us+f3`). */
  async voiceFor(voice: string, language: string): Promise<string> {
    const known = await this.#known();
    const lang = language.toLowerCase();
    const primary = lang.split("-")[0] ?? "en";
    const base = known.has(lang) ? lang : known.has(primary) ? primary : "en-us";
    const v = voice.toLowerCase();
    const female = v === "woman" || v === "alice" || v.startsWith("polly.") || v.startsWith("google.");
    return `${base}+${female ? "f3" : "m3"}`;
  }

  #known(): Promise<Set<string>> {
    this.#voices ??= promisify(execFile)("espeak-ng", ["--voices"]).then(
      ({ stdout }) =>
        new Set(
          stdout
            .split("\n")
            .slice(1)
            .map((l) => l.trim().split(/\s+/)[1] ?? ""),
        ),
      () => new Set<string>(),
    );
    return this.#voices;
  }
}
