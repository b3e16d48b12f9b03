// <Record> on a SIP call: the beep, then the caller's audio (recorder.ts) until a finishing key,
// silence, the maximum length, hang-up or `stop`. The recording is kept apart from the `record` op
// that began it, so that a resumed call's same <Record> (a `record` with the same key) carries it on:
// the worker that asked for it died or handed the call over (docs/resume.md).

import type { RecordReply } from "../../protocol/sip-commands.js";
import type { RecordOptions } from "../../twiml/ports/channel.js";
import type { Transcripts } from "../speech/transcripts.js";
import { FINISHED_KEPT_MS, type FinishedRecordings } from "./finished-recordings.js";
import { Recorder, type Recording } from "./recorder.js";
import type { RtpSession } from "./rtp-session.js";

/** Twilio's beep before a recording: 1 kHz for 250 ms. */
const BEEP = Int16Array.from({ length: 2000 }, (_, i) =>
  Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)),
);

/** One <Record>'s recording, whichever `record` ops wait for it. */
interface RecordRun {
  /** Its RecordingSid, from the region. */
  readonly key: string | undefined;
  readonly result: Promise<Recording>;
  readonly stop: () => void;
}

export class CallerRecording {
  #recorder: Recorder | undefined;
  /** The call's last recording, for a resumed call's same <Record> to carry on. */
  #last: RecordRun | undefined;

  constructor(
    private readonly rtp: RtpSession,
    private readonly finished: FinishedRecordings,
    private readonly transcripts: Transcripts | undefined,
  ) {}

  /** The recording taking the caller's audio and keys now, if one is. */
  get recorder(): Recorder | undefined {
    return this.#recorder;
  }

  /**
   * A `record` op: answered with the recording (its first slice) once it ends, `stop` or the call's
   * end included. `replied` is called once the answer is on its way (a hang-up waits for it).
   */
  async record(
    id: string,
    options: RecordOptions,
    signal: AbortSignal,
    replied: () => void,
  ): Promise<RecordReply> {
    const run = this.#take(options);
    if (signal.aborted) run.stop();
    else signal.addEventListener("abort", run.stop, { once: true });
    try {
      const recording = await run.result;
      this.finished.keep(id, recording);
      if (options.transcribe) this.transcripts?.start(id, recording.wav);
      return this.finished.slice(id, 0);
    } finally {
      signal.removeEventListener("abort", run.stop);
      // Let the reply be published before a hang-up that ended the recording.
      queueMicrotask(replied);
    }
  }

  /**
   * The recording `options` ask for: the call's last one if it has their key (running, or finished
   * while no worker listened), else a new one, which beeps first.
   */
  #take(options: RecordOptions): RecordRun {
    const last = this.#last;
    if (options.key !== undefined && last?.key === options.key) return last;
    const run = this.#start(options);
    this.#last = run;
    return run;
  }

  #start(options: RecordOptions): RecordRun {
    const ac = new AbortController();
    const stop = () => ac.abort(new Error("stopped"));
    const record = async (): Promise<Recording> => {
      if (options.playBeep) await this.rtp.play(BEEP, ac.signal);
      const recorder = new Recorder(options);
      this.#recorder = recorder;
      ac.signal.addEventListener("abort", () => recorder.stop(""), { once: true });
      try {
        return await recorder.result;
      } finally {
        if (this.#recorder === recorder) this.#recorder = undefined;
      }
    };
    const run: RecordRun = { key: options.key, result: record(), stop };
    // Finished, it waits for a resumed call's same <Record> as long as finished recordings are kept.
    const forget = () => {
      setTimeout(() => {
        if (this.#last === run) this.#last = undefined;
      }, FINISHED_KEPT_MS).unref();
    };
    run.result.then(forget, forget);
    return run;
  }
}
