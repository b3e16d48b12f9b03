// The synthesisers an operator can choose with `switchboard sip --tts`: espeak-ng (the default), a
// command of theirs, or an HTTP endpoint (docs/sip.md "Text to speech").
import { request } from "undici";
import { fail } from "../../errors/switchboard-error.js";
import { run } from "../../media/run.js";
import type { WebhookClient } from "../../webhook/client.js";
import { pcmFromBytes, soxTypeOf, toPcm8k } from "../media/convert.js";
import { Espeak } from "./espeak.js";
import type { Prompt, Synthesiser } from "./synthesiser.js";

/** What `--tts` names, checked when the flag is parsed; the gateway makes the synthesiser from it. */
export type TtsEngine =
  | { kind: "espeak-ng" }
  | { kind: "command"; program: string; args: string[] }
  | { kind: "http"; url: URL };

/** An engine spec: `espeak-ng` (the default), `command:PROGRAM [ARGS…]` or an `http(s)://` URL. */
export function ttsEngineFrom(spec: string | undefined): TtsEngine {
  const s = (spec ?? "").trim();
  if (s === "" || s === "espeak-ng" || s === "espeak") return { kind: "espeak-ng" };
  if (s.startsWith("command:")) {
    const [program, ...args] = s.slice("command:".length).trim().split(/\s+/);
    if (!program) throw fail("invalidPayload", "--tts command: names no program");
    return { kind: "command", program, args };
  }
  if (/^https?:\/\//.test(s)) {
    try {
      return { kind: "http", url: new URL(s) };
    } catch {
      throw fail("invalidPayload", `--tts: "${s}" is not a valid URL`);
    }
  }
  throw fail("invalidPayload", `--tts: "${s}" is not espeak-ng, command:PROGRAM or an http(s) URL`);
}

/** The engine's synthesiser; an HTTP engine's requests go through `web` (its egress policy). */
export function synthesiserFrom(engine: TtsEngine, web: WebhookClient): Synthesiser {
  if (engine.kind === "command") return new CommandSynthesiser(engine.program, engine.args);
  if (engine.kind === "http") return new HttpSynthesiser(engine.url, web);
  return new Espeak();
}

/** An engine gets this long to speak one prompt (a Say waits for it before the caller hears anything). */
const TIMEOUT_MS = 20_000;
/** At most this much audio from an engine: ≈ 10 minutes of 16 kHz WAV. */
const MAX_BYTES = 32 * 1024 * 1024;

/**
 * A program of the operator's, run without a shell: the text on stdin, Twilio's voice and language
 * in SB_TTS_VOICE and SB_TTS_LANGUAGE; its stdout is WAV, MP3, AIFF or AU (sox decodes and
 * resamples it), or else raw 8 kHz mono 16-bit little-endian PCM.
 */
export class CommandSynthesiser implements Synthesiser {
  constructor(
    private readonly program: string,
    private readonly args: readonly string[],
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  async synthesise(p: Prompt): Promise<Int16Array> {
    const env = { SB_TTS_VOICE: p.voice, SB_TTS_LANGUAGE: p.language };
    const out = await run(this.program, this.args, p.text, env, this.timeoutMs);
    if (out.length === 0) throw fail("mediaConversionFailed", `text to speech ${this.program}: no audio`);
    if (out.length > MAX_BYTES)
      throw fail("mediaConversionFailed", `text to speech ${this.program}: over ${MAX_BYTES} bytes`);
    const type = soxTypeOf(out, "");
    return type ? toPcm8k(out, type) : pcmFromBytes(out);
  }
}

/**
 * An HTTP engine: POSTed `{text, voice, language}` as JSON, answering audio (WAV, MP3, AIFF, AU, by
 * its bytes or Content-Type), at most 32 MiB within 20 s, fetched under the gateway's egress policy.
 */
export class HttpSynthesiser implements Synthesiser {
  constructor(
    private readonly url: URL,
    private readonly web: WebhookClient,
  ) {}

  async synthesise(p: Prompt): Promise<Int16Array> {
    const where = `text to speech ${this.url.origin}`;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      this.web.assertAllowed(this.url);
      res = await request(this.url, {
        method: "POST",
        dispatcher: this.web.dispatcher(),
        headers: { "content-type": "application/json", accept: "audio/wav, audio/mpeg" },
        body: JSON.stringify({ text: p.text, voice: p.voice, language: p.language }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw fail("mediaConversionFailed", `${where}: ${(err as Error).message}`, { cause: err });
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw fail("mediaConversionFailed", `${where} answered ${res.statusCode}`);
    }
    const declared = Number(res.headers["content-length"]);
    if (declared > MAX_BYTES) {
      await res.body.dump();
      throw fail("mediaConversionFailed", `${where}: audio over ${MAX_BYTES} bytes`);
    }
    const bytes = await readAtMost(res.body, MAX_BYTES, where);
    const type = soxTypeOf(bytes, String(res.headers["content-type"] ?? ""));
    if (!type) throw fail("mediaConversionFailed", `${where}: its answer is not audio switchboard can play`);
    return toPcm8k(bytes, type);
  }
}

/** The body, refused once it passes `max` bytes (a server may send no Content-Length). */
async function readAtMost(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  max: number,
  where: string,
) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > max) {
      body.destroy();
      throw fail("mediaConversionFailed", `${where}: audio over ${max} bytes`);
    }
    chunks.push(c);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
