// The recognisers an operator can choose with `switchboard sip --speech`: pocketsphinx (offline, from
// Debian; the default), a command of theirs, or an HTTP endpoint (docs/sip.md "Speech").
import { z } from "zod";
import { fail } from "../../errors/switchboard-error.js";
import { run } from "../../media/run.js";
import { wavFromPcm } from "../rtp/wav.js";
import { Pocketsphinx } from "./pocketsphinx.js";
import type { Recogniser, Recognition, Utterance } from "./recogniser.js";

/**
 * The recogniser an engine spec names: `pocketsphinx` (the default), `command:PROGRAM [ARGS…]` (run
 * with the utterance's WAV on stdin, prints the text), or an `http(s)://` URL (POSTed the WAV).
 */
export function recogniserFrom(spec: string | undefined): Recogniser {
  const s = (spec ?? "").trim();
  if (s === "" || s === "pocketsphinx") return new Pocketsphinx();
  if (s.startsWith("command:")) {
    const [program, ...args] = s.slice("command:".length).trim().split(/\s+/);
    if (!program) throw fail("invalidPayload", "--speech command: names no program");
    return new CommandRecogniser(program, args);
  }
  if (/^https?:\/\//.test(s)) return new HttpRecogniser(new URL(s));
  throw fail("invalidPayload", `--speech: "${s}" is not pocketsphinx, command:PROGRAM or an http(s) URL`);
}

/**
 * A program of the operator's: the WAV (8 kHz mono 16-bit) on stdin, the hints and language in
 * SB_SPEECH_HINTS (comma list) and SB_SPEECH_LANGUAGE; its stdout's first line is the text, and an
 * optional tab and a number after it the confidence.
 */
export class CommandRecogniser implements Recogniser {
  constructor(
    private readonly program: string,
    private readonly args: readonly string[],
  ) {}

  async recognise(u: Utterance): Promise<Recognition> {
    const env = { SB_SPEECH_HINTS: u.hints.join(","), SB_SPEECH_LANGUAGE: u.language };
    const out = (await run(this.program, this.args, wavFromPcm(u.pcm), env)).toString("utf8");
    const [text = "", confidence] = (out.split("\n")[0] ?? "").split("\t");
    const c = Number(confidence);
    return { text: text.trim(), ...(confidence !== undefined && c >= 0 && c <= 1 && { confidence: c }) };
  }
}

const HttpReplySchema = z.object({
  text: z.string().max(4096),
  confidence: z.number().min(0).max(1).optional(),
});

/** An HTTP recogniser: POST the WAV (`audio/wav`, `?language=…&hints=…`), answered `{text, confidence?}`. */
export class HttpRecogniser implements Recogniser {
  constructor(private readonly url: URL) {}

  async recognise(u: Utterance): Promise<Recognition> {
    const url = new URL(this.url);
    url.searchParams.set("language", u.language);
    if (u.hints.length > 0) url.searchParams.set("hints", u.hints.join(","));
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "audio/wav" },
      body: wavFromPcm(u.pcm),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok)
      throw fail("mediaConversionFailed", `speech recogniser ${url.origin} answered ${res.status}`);
    const parsed = HttpReplySchema.safeParse(await res.json());
    if (!parsed.success)
      throw fail(
        "mediaConversionFailed",
        `speech recogniser's answer: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data.confidence === undefined
      ? { text: parsed.data.text.trim() }
      : { text: parsed.data.text.trim(), confidence: parsed.data.confidence };
  }
}
