// The default recogniser: pocketsphinx_continuous (Debian's pocketsphinx 0.8 with its en-US model),
// one process per utterance on a WAV file. With hints, a JSGF grammar of the hinted phrases
// restricts it to them, which is what makes short answers reliable on telephone audio (docs/sip.md).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../media/run.js";
import { wavFromPcm } from "../rtp/wav.js";
import type { Recogniser, Recognition, Utterance } from "./recogniser.js";

const MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";

export class Pocketsphinx implements Recogniser {
  readonly languages = ["en-us"] as const;
  #words: Promise<Set<string>> | undefined;

  constructor(private readonly program = "pocketsphinx_continuous") {}

  async recognise(u: Utterance): Promise<Recognition> {
    const phrases = await this.#known(u.hints);
    // A file, not stdin: Node's stdin pipe is a socket, which pocketsphinx cannot open as /dev/stdin.
    const dir = await mkdtemp(join(tmpdir(), "sb-speech-"));
    try {
      const wav = join(dir, "utterance.wav");
      // The model is of 16 kHz speech: the 8 kHz call audio is upsampled (its top half stays empty).
      await writeFile(wav, wavFromPcm(upsample2(u.pcm), 16_000));
      const args = ["-infile", wav, "-logfn", "/dev/null"];
      if (phrases.length > 0) {
        await writeFile(join(dir, "hints.gram"), jsgf(phrases));
        args.push("-jsgf", join(dir, "hints.gram"));
      }
      const out = await run(this.program, [...args, "-time", "yes"], "");
      return readOutput(out.toString("utf8"), phrases.length > 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The hints as phrases of words the model's dictionary has (a grammar with any other fails to load). */
  async #known(hints: readonly string[]): Promise<string[][]> {
    if (hints.length === 0) return [];
    this.#words ??= readFile(join(MODEL_DIR, "cmudict-en-us.dict"), "utf8").then(
      (dict) => new Set(dict.split("\n").map((line) => line.slice(0, line.indexOf(" ")))),
      () => new Set<string>(),
    );
    const words = await this.#words;
    return hints
      .map((h) =>
        h
          .toLowerCase()
          .replace(/[^a-z' ]/g, " ")
          .split(/\s+/)
          .filter(Boolean),
      )
      .filter((p) => p.length > 0 && p.every((w) => words.has(w)));
  }
}

/**
 * pocketsphinx_continuous's output with `-time yes`: each utterance's text on a line, then a line per
 * word with its start, end and posterior probability. The confidence is the words' mean posterior;
 * with a grammar every posterior is 1.0, which says nothing, so none is given then.
 */
export function readOutput(out: string, grammar: boolean): Recognition {
  const texts: string[] = [];
  const posteriors: number[] = [];
  for (const line of out.split("\n").map((l) => l.trim())) {
    if (line === "") continue;
    const word = /^(\S+) \d+\.\d+ \d+\.\d+ (\d+(?:\.\d+)?)$/.exec(line);
    if (!word) texts.push(line);
    else if (!/^(<.*>|\[.*\])$/.test(word[1] ?? "")) posteriors.push(Number(word[2]));
  }
  const text = texts.join(" ");
  if (grammar || posteriors.length === 0 || text === "") return { text };
  const mean = posteriors.reduce((a, b) => a + b, 0) / posteriors.length;
  return { text, confidence: Math.min(1, Math.max(0, mean)) };
}

function jsgf(phrases: string[][]): string {
  const alternatives = [...new Set(phrases.map((p) => p.join(" ")))].join(" | ");
  return `#JSGF V1.0;\ngrammar hints;\npublic <hint> = ${alternatives};\n`;
}

/** 8 kHz to 16 kHz by linear interpolation. */
export function upsample2(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) {
    const a = pcm[i] as number;
    const b = (pcm[i + 1] ?? a) as number;
    out[2 * i] = a;
    out[2 * i + 1] = (a + b) >> 1;
  }
  return out;
}
