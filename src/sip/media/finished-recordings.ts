// Finished recordings, kept for a minute so the region can fetch a long one in slices — even when
// the caller's hang-up ended both the recording and the call.

import { fail } from "../../errors/switchboard-error.js";
import { type RecordReply, WAV_CHUNK } from "../../protocol/sip-commands.js";
import type { Recording } from "./recorder.js";

/** How long a finished recording is kept for the region (and for a resumed call's same <Record>). */
export const FINISHED_KEPT_MS = 60_000;

export class FinishedRecordings {
  readonly #byId = new Map<string, Recording>();

  keep(id: string, recording: Recording): void {
    this.#byId.set(id, recording);
    setTimeout(() => this.#byId.delete(id), FINISHED_KEPT_MS).unref();
  }

  /** The reply carrying the WAV from `offset` (at most WAV_CHUNK bytes). */
  slice(id: string, offset: number): RecordReply {
    const r = this.#byId.get(id);
    if (!r) throw fail("sipCallGone", `no recording ${id} on the SIP gateway`);
    const chunk = r.wav.subarray(offset, offset + WAV_CHUNK);
    // The last slice fetched: the region has it all.
    if (offset + chunk.length >= r.wav.length) this.#byId.delete(id);
    return { durationMs: r.durationMs, digits: r.digits, size: r.wav.length, offset, chunk };
  }
}
