// Transcripts of recordings made with `transcribe` (issue #18): recognised as soon as the recording
// ends, while the region fetches its WAV, and kept a while by the recording's id for `transcribe`.
import { fail } from "../../errors/switchboard-error.js";
import type { Logger } from "../../log.js";
import type { Recogniser, Recognition } from "./recogniser.js";

const KEEP_MS = 120_000;
/** A RIFF header of the gateway's own WAVs (rtp/wav.ts): 44 bytes. */
const WAV_HEADER = 44;

export class Transcripts {
  readonly #byId = new Map<string, Promise<Recognition>>();

  constructor(
    private readonly recogniser: Recogniser,
    private readonly log: Logger,
  ) {}

  /** Starts recognising a finished recording (its WAV, 8 kHz 16-bit mono). */
  start(id: string, wav: Uint8Array, language = "en-US"): void {
    const pcm = new Int16Array(Math.max(0, (wav.length - WAV_HEADER) >> 1));
    new Uint8Array(pcm.buffer).set(wav.subarray(WAV_HEADER, WAV_HEADER + pcm.length * 2));
    const result = this.recogniser.recognise({ pcm, hints: [], language }).catch((err: unknown) => {
      // A failed transcription, as Twilio reports one: no words.
      this.log.warn({ err, id }, "transcribing a recording failed");
      return { text: "" };
    });
    this.#byId.set(id, result);
    setTimeout(() => this.#byId.delete(id), KEEP_MS).unref();
  }

  /** The reply to `transcribe`: the recording's words, once recognised. */
  async reply(id: string): Promise<Recognition> {
    const result = this.#byId.get(id);
    if (!result) throw fail("sipCallGone", `no transcript of recording ${id} on the SIP gateway`);
    return result;
  }
}
