// Persists a call actor's snapshot to `sb_actors_<R>` on every state change without queueing a
// write per change: at most one write is in flight and only the newest waiting snapshot is kept,
// so the stored snapshot is always the latest one once writes settle.
import type { JsonKv } from "../store/json-kv.js";

export class SnapshotWriter {
  #inFlight: Promise<void> | undefined;
  #pending: unknown;
  #hasPending = false;

  constructor(
    private readonly kv: JsonKv<unknown>,
    private readonly key: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues `snapshot`; resolves once it (or a newer one) is stored. */
  write(snapshot: unknown): Promise<void> {
    this.#pending = snapshot;
    this.#hasPending = true;
    if (!this.#inFlight) this.#inFlight = this.#drain();
    return this.#inFlight;
  }

  /** Resolves when nothing is left to write. */
  settled(): Promise<void> {
    return this.#inFlight ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    while (this.#hasPending) {
      const snapshot = this.#pending;
      this.#hasPending = false;
      try {
        await this.kv.put(this.key, snapshot);
      } catch (err) {
        this.onError(err);
      }
    }
    this.#inFlight = undefined;
  }
}
