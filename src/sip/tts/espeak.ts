// The default synthesiser: espeak-ng (`--stdout`, 160 wpm) resampled by sox to 8 kHz, in the espeak
// voice that Twilio's voice and language map to (voices.ts).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { run } from "../../media/run.js";
import { toPcm8k } from "../media/convert.js";
import type { Prompt, Synthesiser } from "./synthesiser.js";
import { espeakVoice } from "./voices.js";

export class Espeak implements Synthesiser {
  #voices: Promise<Set<string>> | undefined;

  async synthesise(p: Prompt): Promise<Int16Array> {
    const voice = await this.voiceFor(p.voice, p.language);
    const wav = await run("espeak-ng", ["-v", voice, "--stdout", "-s", "160"], p.text);
    return toPcm8k(wav, "wav");
  }

  /** Twilio's voice and language as an installed espeak-ng voice name (`en-us+f3`). */
  async voiceFor(voice: string, language: string): Promise<string> {
    return espeakVoice(voice, language, await this.#known());
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
