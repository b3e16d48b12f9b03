// Persists a call actor's snapshot to `sb_actors_<R>` on state changes without a write per change: at
// most one write is in flight, and the snapshot is taken from the actor when a write starts, so the
// stored snapshot is always the latest one once writes settle and the states in between cost
// nothing. A write also waits until the previous one started at least COALESCE_MS ago, or as long
// ago as that write took, whichever is longer: the short-lived states of a burst cost one write, not
// one each, and under load, when writes slow down, a call writes less often instead of adding to the
// load — `npm run bench` counted these writes as the largest share of a call's JetStream work. A
// crash loses at most that window of progress; resuming from an older snapshot only repeats work,
// as the in-flight write already allowed.
//
// A new call's first snapshot waits FIRST_SNAPSHOT_MS (`holdFirst`): until then the call is carried
// by its lease, which holds the job it started from, so a call that ends before (at time-scale 0, a
// whole call, even under load) writes no snapshot and deletes none. Any snapshot that `settled()`
// waits for is written at once. A finished actor's snapshot is never written: the call's record is
// stored by then and its snapshot is deleted next.
import type { JsonKv } from "../../store/json-kv.js";

// A call at time-scale 0 (a whole call) or the quick steps of a live one (answer, first verb) fit in
// this window: `npm run bench` measured 4.4 snapshot writes a call at 10 ms, most of them for states
// that lasted a few milliseconds. A resumed call may repeat up to this much work (a webhook request,
// with the same idempotency token), which resuming already allowed.
export const COALESCE_MS = 100;

// A worker that dies before this starts its calls again from their jobs (with the same idempotency
// tokens), which only repeats their first second: ringing, the first webhook, the start of the first
// verb, which resuming from a snapshot would replay too. Under `npm run bench`'s load a call at
// time-scale 0 lives 100–400 ms, so at COALESCE_MS most of them still wrote and deleted a snapshot.
export const FIRST_SNAPSHOT_MS = 1_000;

interface Waiter {
  version: number;
  resolve: () => void;
}

export interface SnapshotWriterOptions {
  /** Wait out the window before the first write too (a new call; see above). */
  holdFirst?: boolean;
  /** The bucket already holds a snapshot under the key (a resumed call). */
  stored?: boolean;
  /**
   * Runs each delayed write: after a stall the worker holds it back until it knows the call is
   * still its own, so a copy taken over meanwhile does not overwrite its new owner's snapshot.
   */
  gate?: (fn: () => void) => void;
}

export class SnapshotWriter {
  /** Version of the newest state change. */
  #latest = 0;
  /** Every version up to this one is stored, superseded or skipped. */
  #stored = 0;
  /** Versions up to this one are written without waiting out the window. */
  #urgent = 0;
  #writing = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  /** How long the last write took (ms). */
  #lastDuration = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: Waiter[] = [];
  #failed = false;
  #inBucket: boolean;
  /** Set by seal(): what every later write stores, instead of a new capture. */
  #sealed: unknown;
  #discarded = false;
  /** Set by close(): the call left this worker, and no later change is taken. */
  #closed = false;
  readonly #gate: (fn: () => void) => void;

  /** True when the latest write failed (a later write that succeeds clears it). */
  get failed(): boolean {
    return this.#failed;
  }

  /** True when the bucket may hold a snapshot under the key: one was written, or the call was resumed. */
  get inBucket(): boolean {
    return this.#inBucket;
  }

  /**
   * `capture` gives the snapshot to store as the actor is now; one whose `status` is "done" is never
   * stored.
   */
  constructor(
    private readonly kv: JsonKv<unknown>,
    private readonly key: string,
    private readonly capture: () => unknown,
    private readonly onError: (err: unknown) => void,
    opts: SnapshotWriterOptions = {},
  ) {
    if (opts.holdFirst) this.#lastStart = performance.now() + FIRST_SNAPSHOT_MS - COALESCE_MS;
    this.#inBucket = opts.stored ?? false;
    this.#gate = opts.gate ?? ((fn) => fn());
  }

  /** The actor changed; resolves once this state (or a newer one) is stored or skipped. */
  changed(): Promise<void> {
    if (this.#sealed !== undefined || this.#discarded || this.#closed) return this.#until(this.#latest);
    const version = ++this.#latest;
    this.#pump();
    return this.#until(version);
  }

  /** Writes what is waiting without delay; resolves when every change so far is stored. */
  settled(): Promise<void> {
    this.#urgent = this.#latest;
    this.#pump();
    return this.#until(this.#latest);
  }

  /**
   * Takes the snapshot now and stores it (and only it) from here on: called before the actor is
   * stopped to hand the call over, since a stopped actor's snapshot must not be the one resumed.
   * Resolves once it is stored.
   */
  seal(): Promise<void> {
    this.#sealed = this.capture();
    this.#latest++;
    return this.settled();
  }

  /** Stores nothing more (another worker owns the call now); waiters resolve. */
  discard(): void {
    this.#discarded = true;
    this.#pump();
  }

  /**
   * The call left this worker (it ended, or was handed over or lost): later changes are not taken,
   * and a change still waiting out its window is dropped. Writes already due (a sealed hand-over
   * snapshot, settled()) still complete. Without this, the window's timer held a finished call's
   * whole state (actor, channel, clock) for up to FIRST_SNAPSHOT_MS: its last state change arrives
   * after its end was handled, and at 400 calls a second that kept ~400 finished calls alive per
   * worker (issue #20, a heap snapshot during the latency bench).
   */
  close(): void {
    this.#closed = true;
    this.#pump();
  }

  #until(version: number): Promise<void> {
    if (this.#stored >= version) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ version, resolve }));
  }

  #pump(): void {
    if (this.#writing) return; // the write's completion pumps again
    const version = this.#latest;
    // Discarded, nothing more is stored; closed, the changes no one asked to settle are dropped.
    if (version <= this.#stored || this.#discarded || (this.#closed && version > this.#urgent)) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#markStored(version);
      return;
    }
    const wait = this.#lastStart + Math.max(COALESCE_MS, this.#lastDuration) - performance.now();
    if (wait > 0 && version > this.#urgent) {
      this.#timer ??= setTimeout(() => {
        this.#gate(() => {
          this.#timer = undefined;
          this.#pump();
        });
      }, wait);
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const snapshot = this.#discarded ? undefined : (this.#sealed ?? this.capture());
    if (snapshot === undefined || (snapshot as { status?: unknown } | null)?.status === "done") {
      this.#markStored(version);
      return;
    }
    this.#writing = true;
    this.#inBucket = true;
    const started = performance.now();
    this.#lastStart = started;
    this.kv
      .put(this.key, snapshot)
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
        this.#markStored(version);
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
