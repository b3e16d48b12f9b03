// A worker's heartbeat and its judgement of the other workers' (leases.ts says what they are for).
// It runs on a thread of its own with its own NATS connection (heartbeat-thread.ts), so that the
// main thread busy with one call's work (a huge TwiML document, a GC pause) neither delays this
// worker's beat nor makes it misjudge a peer whose beats it read late. Two things still stop it
// beating: the main thread making no progress for WEDGED_MS (a truly wedged worker must lose its
// calls), and the whole process stopping (SIGSTOP, a VM starved of CPU) — after which it judges no
// one until each peer had a full DEAD_AFTER_MS from its own wake-up to be heard from again. A peer's
// silence counts only while this worker sees its own beats come back (see #sight).
import type { KV } from "@nats-io/kv";
import { HEARTBEAT_KEYS, type Heartbeat, heartbeatKey, workerOfHeartbeatKey } from "../../protocol/leases.js";

export const HEARTBEAT_MS = 500;
/**
 * A peer silent this long is dead. The beat comes from a thread that does nothing else (a KV put
 * every HEARTBEAT_MS), so its gaps are the network's and nats-server's, not the worker's load:
 * `test/region/busy-worker.test.ts` measures them with the main thread blocked by hostile
 * documents (largest gap 0.6–1.1 s); three beats missed in a row is a dead worker.
 */
export const DEAD_AFTER_MS = 1_500;
/**
 * A main thread that has not run for this long is wedged: the heartbeat stops so that the others
 * take its calls. Far beyond any one call's work (a document's parse is bounded well under a
 * second) so that a busy worker is never taken for a dead one.
 */
export const WEDGED_MS = 10_000;
const CHECK_MS = HEARTBEAT_MS / 2;
/** Not seeing its own beat for this long is worth a warning (see Heartbeats.#sight). */
const BLIND_MS = DEAD_AFTER_MS - HEARTBEAT_MS;
/** How long after its own last beat came back a worker still counts as seeing (the next is due). */
const SIGHT_MS = HEARTBEAT_MS + CHECK_MS;
/** A check this much later than due means this thread did not run meanwhile: what it saw is stale. */
export const STALLED_MS = 3 * CHECK_MS;
/** How often the workers found dead are reported again (their claim may have failed), and for how long. */
const SWEEP_MS = 5_000;
const FORGET_DEAD_MS = 10 * 60_000;

export interface HeartbeatLog {
  warn(obj: Record<string, unknown>, msg: string): void;
  /** Optional: the heartbeat thread forwards warnings only. */
  debug?(obj: Record<string, unknown>, msg: string): void;
}

export interface HeartbeatsOptions {
  /** A counter the main thread advances while it runs; unchanged for WEDGED_MS: stop beating. */
  progress: () => number;
  /** Called for each other worker found dead, and again at each sweep while it stays dead. */
  onDead: (worker: string) => void;
  /** Called when a worker found dead beats again (it was only cut off or stalled). */
  onAlive: (worker: string) => void;
  log: HeartbeatLog;
  /** The process id the heartbeat carries. */
  pid: number;
  /** WEDGED_MS, unless a test needs it shorter. */
  wedgedMs?: number;
}

export class Heartbeats {
  readonly #lastSeen = new Map<string, number>();
  /** Workers found dead, and when. */
  readonly #dead = new Map<string, number>();
  #lastSweep = performance.now();
  /** When one of this thread's timers last ran. */
  #lastRun = performance.now();
  #progress = -1;
  #progressAt = performance.now();
  #wedged = false;
  #beat: NodeJS.Timeout | undefined;
  #check: NodeJS.Timeout | undefined;
  #stopWatch: (() => void) | undefined;
  /** When this worker last saw its own heartbeat come back through the watch. */
  #selfSeen = performance.now();
  /**
   * How long (ms) this worker has seen its own beats come back: the clock a peer's silence is
   * measured on, since the peers' beats come the same way. While its own do not come back either
   * (cut off, nats-server restarting, the watch lagging, the server overloaded) this clock stands
   * still: the silence says nothing about the peer. `#lastSeen` holds times on this clock.
   */
  #sight = 0;
  #sightAt = performance.now();
  #blind = false;
  #putFailing = false;

  constructor(
    private readonly kv: KV,
    readonly worker: string,
    private readonly o: HeartbeatsOptions,
  ) {}

  async start(): Promise<void> {
    this.#progress = this.o.progress();
    await this.#heartbeat();
    this.#beat = setInterval(() => void this.#heartbeat(), HEARTBEAT_MS);
    const watch = await this.kv.watch({ key: HEARTBEAT_KEYS });
    this.#stopWatch = () => watch.stop();
    (async () => {
      for await (const e of watch) {
        const worker = workerOfHeartbeatKey(e.key);
        if (worker === this.worker) {
          if (e.operation === "PUT") this.#sawSelf();
          continue;
        }
        if (e.operation === "PUT") {
          // Judged by when we saw the beat, not the writer's clock: no skew between machines.
          this.#lastSeen.set(worker, this.#sightNow(performance.now()));
          if (this.#dead.delete(worker)) this.o.onAlive(worker);
        } else this.#declareDead(worker, "handed-over");
      }
    })().catch(() => {});
    this.#check = setInterval(() => this.#judge(), CHECK_MS);
  }

  /** Stops beating; with `handOver`, deletes the heartbeat so the others take the calls at once. */
  async stop(handOver: boolean): Promise<void> {
    clearInterval(this.#beat);
    clearInterval(this.#check);
    this.#stopWatch?.();
    if (handOver) await this.kv.purge(heartbeatKey(this.worker)).catch(() => {});
  }

  /**
   * Notes that this thread runs now; false when it had not run for STALLED_MS (the process was
   * stopped or starved): the beats it has not read yet are still in its socket and its peers'
   * silence says nothing, so everyone, the main thread too, gets a full bound from now.
   */
  #running(now: number): boolean {
    const late = now - this.#lastRun - CHECK_MS;
    this.#lastRun = now;
    if (late <= STALLED_MS) {
      const progress = this.o.progress();
      if (progress !== this.#progress) {
        this.#progress = progress;
        this.#progressAt = now;
      }
      return true;
    }
    this.o.log.warn(
      { stalledMs: Math.round(late) },
      "this worker was stalled; judging no one until peers are heard again",
    );
    const sight = this.#sightNow(now);
    for (const worker of this.#lastSeen.keys()) this.#lastSeen.set(worker, sight);
    this.#progressAt = now;
    return false;
  }

  #judge(): void {
    const now = performance.now();
    if (!this.#running(now)) return;
    const sight = this.#sightNow(now);
    this.#noteSight(now);
    for (const [worker, seen] of this.#lastSeen)
      if (sight - seen > DEAD_AFTER_MS) this.#declareDead(worker, "silent");
    // A claim that failed (nats-server restarting) leaves leases behind: report them again now and then.
    if (now - this.#lastSweep > SWEEP_MS) {
      this.#lastSweep = now;
      for (const [worker, since] of this.#dead) {
        if (now - since > FORGET_DEAD_MS) this.#dead.delete(worker);
        else this.o.onDead(worker);
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const now = performance.now();
    this.#running(now);
    const wedged = now - this.#progressAt > (this.o.wedgedMs ?? WEDGED_MS);
    if (wedged !== this.#wedged) {
      this.#wedged = wedged;
      this.o.log.warn(
        { silentMs: Math.round(now - this.#progressAt) },
        wedged
          ? "main thread is wedged; not beating, so others take its calls"
          : "main thread runs again; beating",
      );
    }
    if (wedged) return;
    try {
      const beat: Heartbeat = { at: Date.now(), pid: this.o.pid };
      await this.kv.put(heartbeatKey(this.worker), JSON.stringify(beat));
      this.#putFailing = false;
    } catch (err) {
      if (!this.#putFailing) this.o.log.warn({ err }, "heartbeat not stored");
      this.#putFailing = true;
    }
  }

  /** Warns once when this worker stops seeing its own heartbeat (see #selfSeen). */
  #noteSight(now: number): void {
    const blind = now - this.#selfSeen > BLIND_MS;
    if (blind && !this.#blind)
      this.o.log.warn(
        { unseenMs: Math.round(now - this.#selfSeen) },
        "this worker does not see its own heartbeat; judging no one until it does",
      );
    this.#blind = blind;
  }

  #sawSelf(): void {
    const now = performance.now();
    const outage = now - this.#selfSeen > DEAD_AFTER_MS;
    this.#sightNow(now);
    this.#selfSeen = now;
    // Back after an outage (a nats-server restart): the others are reconnecting too; each gets a
    // full DEAD_AFTER_MS from now to be heard again.
    if (outage) for (const worker of this.#lastSeen.keys()) this.#lastSeen.set(worker, this.#sight);
  }

  /** Advances the sight clock (see #sight) to `now` and returns it. */
  #sightNow(now: number): number {
    const until = Math.min(now, this.#selfSeen + SIGHT_MS);
    if (until > this.#sightAt) this.#sight += until - this.#sightAt;
    this.#sightAt = Math.max(this.#sightAt, now);
    return this.#sight;
  }

  /**
   * A worker whose heartbeat went silent died: a warning. One whose heartbeat was deleted stopped
   * cleanly and handed its calls over (the watch replays such deletions from every earlier run, so
   * they are no news); its calls, if it left any, are claimed all the same.
   */
  #declareDead(worker: string, how: "silent" | "handed-over"): void {
    this.#lastSeen.delete(worker);
    if (this.#dead.has(worker)) return;
    this.#dead.set(worker, performance.now());
    if (how === "silent") this.o.log.warn({ worker }, "worker is gone; claiming its calls");
    else this.o.log.debug?.({ worker }, "worker stopped cleanly; claiming any calls it handed over");
    this.o.onDead(worker);
  }
}
