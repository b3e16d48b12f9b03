// Persists a call actor's snapshot to `sb_actors_<R>` on state changes without a write per change: at
// most one write is in flight and only the newest waiting snapshot is kept, so the stored snapshot is
// always the latest one once writes settle. A write also waits until the previous one started at
// least COALESCE_MS ago, or as long ago as that write took, whichever is longer: the short-lived
// states of a burst (at time-scale 0, a whole call) cost one write, not one each, and under load,
// when writes slow down, a call writes less often instead of adding to the load — `npm run bench`
// counted these writes as the largest share of a call's JetStream work. A crash loses at most that
// window of progress; resuming from an older snapshot only repeats work, as the in-flight write
// already allowed. The first snapshot and any that `settled()` waits
// for are written at once. A finished actor's snapshot is never written: the call's record is
// stored by then and its snapshot is deleted next.
import type { JsonKv } from "../store/json-kv.js";

// A call at time-scale 0 (a whole call) or the quick steps of a live one (answer, first verb) fit in
// this window: `npm run bench` measured 4.4 snapshot writes a call at 10 ms, most of them for states
// that lasted a few milliseconds. A resumed call may repeat up to this much work (a webhook request,
// with the same idempotency token), which resuming already allowed.
export const COALESCE_MS = 100;

interface Waiter {
  version: number;
  resolve: () => void;
}

export class SnapshotWriter {
  /** Version of the newest snapshot given to write(). */
  #latest = 0;
  /** Every version up to this one is stored, superseded or skipped. */
  #stored = 0;
  /** Versions up to this one are written without waiting out the window. */
  #urgent = 0;
  #pending: { version: number; snapshot: unknown } | undefined;
  #writing = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  /** How long the last write took (ms). */
  #lastDuration = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: Waiter[] = [];
  #failed = false;

  /** True when the latest write failed (a later write that succeeds clears it). */
  get failed(): boolean {
    return this.#failed;
  }

  constructor(
    private readonly kv: JsonKv<unknown>,
    private readonly key: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues `snapshot`; resolves once it (or a newer one) is stored. */
  write(snapshot: unknown): Promise<void> {
    const version = ++this.#latest;
    const done = (snapshot as { status?: unknown } | null)?.status === "done";
    this.#pending = done ? undefined : { version, snapshot };
    this.#pump();
    return this.#until(version);
  }

  /** Writes what is waiting without delay; resolves when every snapshot given so far is stored. */
  settled(): Promise<void> {
    this.#urgent = this.#latest;
    this.#pump();
    return this.#until(this.#latest);
  }

  #until(version: number): Promise<void> {
    if (this.#stored >= version) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ version, resolve }));
  }

  #pump(): void {
    if (this.#writing) return; // the write's completion pumps again
    const next = this.#pending;
    if (!next) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#markStored(this.#latest);
      return;
    }
    const wait = this.#lastStart + Math.max(COALESCE_MS, this.#lastDuration) - performance.now();
    if (wait > 0 && next.version > this.#urgent) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
    this.#writing = true;
    const started = performance.now();
    this.#lastStart = started;
    this.kv
      .put(this.key, next.snapshot)
      .then(
        () => {
          this.#failed = false;
        },
        (err: unknown) => {
          this.#failed = true;
          this.onError(err);
        },
      )
      .then(() => {
        this.#writing = false;
        this.#lastDuration = performance.now() - started;
        this.#markStored(next.version);
        this.#pump();
      });
  }

  #markStored(version: number): void {
    if (version <= this.#stored) return;
    this.#stored = version;
    const ready = this.#waiters.filter((w) => w.version <= version);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.version > version);
    for (const w of ready) w.resolve();
  }
}
