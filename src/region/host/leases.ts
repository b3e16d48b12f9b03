// Who owns which live call, and noticing when an owner dies. A lease per call with its own
// heartbeat would cost a KV write per call per heartbeat (100k parked calls: 200k writes a second),
// so the heartbeat is per worker and each call's lease points at its owner (the key layout is
// protocol/leases.ts): the heartbeat `_w.<worker>`, rewritten every HEARTBEAT_MS; the lease
// `_o.<worker>.<CallSid>`, written before the call is acked and deleted when it ends, whose value is
// the call's job, so the lease alone can start the call again if its owner dies before the call's
// first snapshot is stored; and the claim `_c.<worker>.<CallSid>.<rev>`. A worker whose heartbeat has not been
// seen for DEAD_AFTER_MS (or whose heartbeat key was deleted: a graceful hand-over) is dead; every
// other worker then claims its calls. A claim is decided by one write that can succeed once, the
// creation of `_c.<dead>.<sid>.<rev>` naming the claimer: a claimer whose create failed reads the key
// to learn who won (itself, when only the reply was lost, as happens while nats-server restarts),
// so exactly one resumes each call and none gives up a call it won. The key is also the notice to the
// worker claimed from: one that was only thought dead (cut off, or stalled) stops its copy when it
// sees it. A worker watches only its notices, not its own leases, which would send it two messages
// for every call it runs.
import { type KV, KvWatchInclude } from "@nats-io/kv";
import type { Logger } from "../../log.js";
import type { CallJob } from "../../protocol/call-job.js";
import {
  callOfLeaseKey,
  claimKey,
  claimsFrom,
  HEARTBEAT_KEYS,
  type Heartbeat,
  heartbeatKey,
  leaseJob,
  leaseKeysOf,
  leasesOfWorker,
  ownerKey,
  parseClaimKey,
  workerOfHeartbeatKey,
  workerOfLeaseKey,
} from "../../protocol/leases.js";

export const HEARTBEAT_MS = 500;
export const DEAD_AFTER_MS = 1_500;
/** How often the leases of workers found dead are looked at again, and for how long. */
const SWEEP_MS = 5_000;
const FORGET_DEAD_MS = 10 * 60_000;

export class WorkerLeases {
  readonly #lastSeen = new Map<string, number>();
  /** Workers found dead, and when. */
  readonly #dead = new Map<string, number>();
  #lastSweep = Date.now();
  #beat: NodeJS.Timeout | undefined;
  #check: NodeJS.Timeout | undefined;
  #stopWatch: (() => void) | undefined;
  #stopOwnWatch: (() => void) | undefined;
  /** False while this worker cannot store its heartbeat: then it judges no one (it may be the one cut off). */
  #healthy = true;
  /** Called once for each other worker found dead. */
  onDead: ((worker: string) => void) | undefined;
  /** Called when another worker claimed a call this worker still runs: this copy must stop. */
  onLost: ((callSid: string) => void) | undefined;

  constructor(
    private readonly kv: KV,
    readonly worker: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.#heartbeat();
    this.#beat = setInterval(() => void this.#heartbeat(), HEARTBEAT_MS);
    const watch = await this.kv.watch({ key: HEARTBEAT_KEYS });
    this.#stopWatch = () => watch.stop();
    (async () => {
      for await (const e of watch) {
        const worker = workerOfHeartbeatKey(e.key);
        if (worker === this.worker) continue;
        if (e.operation === "PUT") {
          // Judged by when we saw the beat, not the writer's clock: no skew between machines.
          this.#lastSeen.set(worker, Date.now());
          this.#dead.delete(worker);
        } else this.#declareDead(worker, "handed-over");
      }
    })().catch(() => {});
    // A claim from this worker means another worker took the call over, unless this worker's lease
    // is newer than the one claimed: a claim read late must not stop a copy it has claimed back since.
    const notices = await this.kv.watch({
      key: claimsFrom(this.worker),
      include: KvWatchInclude.UpdatesOnly,
    });
    this.#stopOwnWatch = () => notices.stop();
    (async () => {
      for await (const e of notices) {
        if (e.operation !== "PUT") continue;
        const { callSid, revision } = parseClaimKey(e.key, this.worker);
        const lease = await this.kv.get(ownerKey(this.worker, callSid)).catch(() => null);
        if (lease?.operation !== "PUT" || lease.revision <= revision) this.onLost?.(callSid);
      }
    })().catch(() => {});
    this.#check = setInterval(() => {
      if (!this.#healthy) return;
      const now = Date.now();
      for (const [worker, seen] of this.#lastSeen)
        if (now - seen > DEAD_AFTER_MS) this.#declareDead(worker, "silent");
      // A claim that failed (nats-server restarting) leaves leases behind: look again now and then.
      if (now - this.#lastSweep > SWEEP_MS) {
        this.#lastSweep = now;
        for (const [worker, since] of this.#dead) {
          if (now - since > FORGET_DEAD_MS) this.#dead.delete(worker);
          else this.onDead?.(worker);
        }
      }
    }, HEARTBEAT_MS / 2);
  }

  /** Records that this worker owns the call, started from `job` (encoded); resolves once stored. */
  async own(callSid: string, job: Uint8Array): Promise<void> {
    await this.kv.put(ownerKey(this.worker, callSid), job);
  }

  /** Whether this worker has found `worker` dead (its calls are being claimed). */
  isDead(worker: string): boolean {
    return this.#dead.has(worker);
  }

  /** The job stored in this worker's lease on the call, or undefined when it has none. */
  async job(callSid: string): Promise<CallJob | undefined> {
    const lease = await this.kv.get(ownerKey(this.worker, callSid));
    return lease?.operation === "PUT" ? leaseJob(lease.value) : undefined;
  }

  /** The workers that hold a lease on the call (normally one; two for a moment during a claim). */
  async holders(callSid: string): Promise<string[]> {
    const found: string[] = [];
    for await (const key of await this.kv.keys(leaseKeysOf(callSid)))
      found.push(workerOfLeaseKey(key, callSid));
    return found;
  }

  /** The call ended here: it has no owner any more. */
  async release(callSid: string): Promise<void> {
    await this.kv.purge(ownerKey(this.worker, callSid));
  }

  /**
   * Claims the dead worker's calls for this worker and returns the ones won (see the top of this
   * file). A call whose claim could not be decided (nats-server unreachable) is left with the dead
   * worker's lease, for the next sweep.
   */
  async claim(dead: string): Promise<string[]> {
    const won: string[] = [];
    const keys: string[] = [];
    for await (const key of await this.kv.keys(leasesOfWorker(dead))) keys.push(key);
    // Survivors claim in different orders, so a large hand-over is shared rather than fought over.
    keys.sort(() => Math.random() - 0.5);
    for (const key of keys) {
      const lease = await this.kv.get(key);
      if (lease?.operation !== "PUT") continue;
      const callSid = callOfLeaseKey(key, dead);
      // Our lease first, the claim second, the dead one's lease last: dying in between leaves a lease
      // someone will claim, never a call no one would ever resume.
      await this.own(callSid, lease.value);
      const claim = claimKey(dead, callSid, lease.revision);
      const winner = await this.kv.create(claim, this.worker).then(
        () => this.worker,
        async () => {
          const entry = await this.kv.get(claim).catch(() => null);
          return entry?.operation === "PUT" ? entry.string() : undefined;
        },
      );
      if (winner !== this.worker) {
        // Another worker won it, or nobody yet (the dead lease stays for the next sweep).
        if (winner === undefined)
          this.log.warn({ callSid, dead }, "claim undecided; the next sweep tries again");
        await this.release(callSid).catch(() => {});
        continue;
      }
      await this.kv.purge(key).catch(() => {}); // left, the next sweep finds the claim ours again
      won.push(callSid);
    }
    // The dead worker's heartbeat would only be judged again by every worker that starts later;
    // one already deleted (a clean stop) is left as it is, not deleted once more per sweep.
    const beat = await this.kv.get(heartbeatKey(dead)).catch(() => null);
    if (beat?.operation === "PUT") await this.kv.purge(heartbeatKey(dead)).catch(() => {});
    return won;
  }

  /**
   * Stops beating. With `handOver`, deletes the heartbeat so the others take this worker's calls at
   * once rather than after DEAD_AFTER_MS.
   */
  async stop(handOver: boolean): Promise<void> {
    clearInterval(this.#beat);
    clearInterval(this.#check);
    this.#stopWatch?.();
    this.#stopOwnWatch?.();
    if (handOver) await this.kv.purge(heartbeatKey(this.worker)).catch(() => {});
  }

  async #heartbeat(): Promise<void> {
    try {
      const beat: Heartbeat = { at: Date.now(), pid: process.pid };
      await this.kv.put(heartbeatKey(this.worker), JSON.stringify(beat));
      if (!this.#healthy) {
        // Back after an outage (a nats-server restart): everyone else was cut off too, so their
        // silence says nothing; give each of them a full DEAD_AFTER_MS from now.
        this.#healthy = true;
        for (const worker of this.#lastSeen.keys()) this.#lastSeen.set(worker, Date.now());
      }
    } catch (err) {
      if (this.#healthy)
        this.log.warn({ err }, "heartbeat not stored; not judging other workers until it is");
      this.#healthy = false;
    }
  }

  /**
   * A worker whose heartbeat went silent died: a warning. One whose heartbeat was deleted stopped
   * cleanly and handed its calls over (the watch replays such deletions from every earlier run, so
   * they are no news); its calls, if it left any, are claimed all the same.
   */
  #declareDead(worker: string, how: "silent" | "handed-over"): void {
    this.#lastSeen.delete(worker);
    if (this.#dead.has(worker)) return;
    this.#dead.set(worker, Date.now());
    if (how === "silent") this.log.warn({ worker }, "worker is gone; claiming its calls");
    else this.log.debug({ worker }, "worker stopped cleanly; claiming any calls it handed over");
    this.onDead?.(worker);
  }
}
