// The region's side of <Record>: recordings go to object store `sb_recordings_<r>` (DESIGN.md §3),
// placed in the region, with their facts (and their transcription) as the object's metadata, which
// the REST API reads back. Work a verb asks to keep (a recording whose caller hung up) is tracked per
// call: the call's end waits for it, so its record is written after its recordings are.
import { randomBytes } from "node:crypto";
import type { ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import { putRecording } from "../../store/recording-objects.js";
import { openRecordings } from "../../store/region.js";
import type { RecordingPort, StoredTranscription } from "../../twiml/ports/recordings.js";
import type { CallIdentity } from "../../twiml/verb-context.js";

/** How long a call's end waits for its recordings before writing its record anyway. */
const KEEP_LIMIT_MS = 20_000;

export class RegionRecordings {
  #store: Promise<ObjectStore> | undefined;
  readonly #kept = new Map<string, Set<Promise<unknown>>>();

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      region: string;
      /** The REST API's origin, for RecordingUrl and TranscriptionUrl. */
      apiUrl: string;
      log: Logger;
    },
  ) {}

  /** The port a verb of this call gets; `holding` runs real-time work while the call's clock waits. */
  port(call: CallIdentity, holding: <T>(work: () => Promise<T>) => Promise<T>): RecordingPort {
    const base = `${this.deps.apiUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${call.accountSid}`;
    return {
      url: (sid) => `${base}/Recordings/${sid}`,
      store: async ({ sid, startTime, audio, transcribe, source, channels, conferenceSid }) => {
        const transcriptionSid = `TR${randomBytes(16).toString("hex")}`;
        // The simulated caller's script is the transcript; no words makes a failed transcription.
        const transcription: StoredTranscription | undefined = transcribe
          ? {
              sid: transcriptionSid,
              url: `${base}/Transcriptions/${transcriptionSid}`,
              status: audio.transcript ? "completed" : "failed",
              text: audio.transcript ?? "",
            }
          : undefined;
        const facts = {
          sid,
          accountSid: call.accountSid,
          callSid: call.callSid,
          duration: Math.round(audio.durationMs / 1000),
          startTime,
          ...(source && { source }),
          ...(conferenceSid && { conferenceSid }),
          ...(channels && { channels }),
          ...(transcription && { transcription }),
        };
        await holding(async () => putRecording(await this.#open(), facts, audio.wav));
        return transcription ? { transcription } : {};
      },
      keep: (work) => {
        const set = this.#kept.get(call.callSid) ?? new Set<Promise<unknown>>();
        this.#kept.set(call.callSid, set);
        const kept = work.then(
          () => {},
          (err: unknown) => this.deps.log.error({ err, callSid: call.callSid }, "recording was not stored"),
        );
        set.add(kept);
        void kept.finally(() => {
          set.delete(kept);
          if (set.size === 0 && this.#kept.get(call.callSid) === set) this.#kept.delete(call.callSid);
        });
      },
    };
  }

  /** Resolves once the call's kept work is done (or after a bound, so its record is never held up). */
  async settled(callSid?: string): Promise<void> {
    const work =
      callSid === undefined
        ? [...this.#kept.values()].flatMap((set) => [...set])
        : [...(this.#kept.get(callSid) ?? [])];
    if (work.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, KEEP_LIMIT_MS);
    });
    await Promise.race([Promise.allSettled(work), limit]);
    clearTimeout(timer);
  }

  #open(): Promise<ObjectStore> {
    this.#store ??= openRecordings(this.deps.nc, this.deps.region);
    this.#store.catch(() => {
      this.#store = undefined;
    });
    return this.#store;
  }
}
