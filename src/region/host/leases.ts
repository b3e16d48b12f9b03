// Who owns which live call, and noticing when an owner dies. A lease per call with its own
// heartbeat would cost a KV write per call per heartbeat (100k parked calls: 200k writes a second),
// so the heartbeat is per worker and each call's lease points at its owner (the key layout is
// protocol/leases.ts): the heartbeat `_w.<worker>`, rewritten every HEARTBEAT_MS; the lease
// `_o.<worker>.<CallSid>`, written before the call is acked and deleted when it ends, whose value is
// the call's job, so the lease alone can start the call again if its owner dies before the call's
// first snapshot is stored; and the claim `_c.<worker>.<CallSid>.<rev>`. A worker whose heartbeat has not been
// seen for DEAD_AFTER_MS (or whose heartbeat key was deleted: a graceful hand-over) is dead; every
// other worker then claims its calls (heartbeats.ts beats and judges, on a thread of its own;
// liveness.ts runs it). One claim round per dead worker at a time, and none for a call this worker
// runs already: a call is launched once. A claim is decided by one write that can succeed once, the
// creation of `_c.<dead>.<sid>.<rev>` naming the claimer: a claimer whose create failed reads the key
// to learn who won (itself, when only the reply was lost, as happens while nats-server restarts),
// so exactly one resumes each call and none gives up a call it won. The key is also the notice to the
// worker claimed from: one that was only thought dead (cut off, or stalled) stops its copy when it
// sees it. A worker watches only its notices, not its own leases, which would send it two messages
// for every call it runs.
import { Bucket, type KV, KvWatchInclude } from "@nats-io/kv";
import { Empty, headers, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import type { CallJob } from "../../protocol/call-job.js";
import {
  callOfLeaseKey,
  claimKey,
  claimsFrom,
  heartbeatKey,
  leaseJob,
  leaseKeysOf,
  leasesOfWorker,
  ownerKey,
  parseClaimKey,
  workerOfLeaseKey,
} from "../../protocol/leases.js";
import { Liveness } from "./liveness.js";

export { DEAD_AFTER_MS, HEARTBEAT_MS } from "./heartbeats.js";

export interface WorkerLeasesOptions {
  kv: KV;
  /** The bucket `kv` is (the heartbeat thread opens it on its own connection). */
  bucket: string;
  worker: string;
  log: Logger;
  /** The NATS URL the heartbeat thread connects with; without it the heartbeat runs on the main thread. */
  url?: string;
  /** The connection `kv` is on: an ended call's lease is purged on it without waiting for a reply. */
  nc?: NatsConnection;
}

export class WorkerLeases {
  readonly worker: string;
  readonly #kv: KV;
  readonly #nc: NatsConnection | undefined;
  readonly #log: Logger;
  readonly #liveness: Liveness;
  #stopOwnWatch: (() => void) | undefined;
  /** The claim round running for each dead worker; `again` when another was asked for meanwhile. */
  readonly #rounds = new Map<string, { again: boolean }>();
  /** Called once for each other worker found dead (and again at sweeps while it stays dead). */
  onDead: ((worker: string) => void) | undefined;
  /** Called when another worker claimed a call this worker still runs: this copy must stop. */
  onLost: ((callSid: string) => void) | undefined;

  constructor(o: WorkerLeasesOptions) {
    this.worker = o.worker;
    this.#kv = o.kv;
    this.#nc = o.nc;
    this.#log = o.log;
    this.#liveness = new Liveness(o);
    this.#liveness.onDead = (w) => this.onDead?.(w);
  }

  /** See Liveness.gate: runs `fn` now, or after a stall once the calls' ownership is checked. */
  gate(fn: () => void): void {
    this.#liveness.gate(fn);
  }

  /** Called after this worker's main thread was stalled, before its calls go on (Liveness.onWake). */
  set onWake(check: () => Promise<void>) {
    this.#liveness.onWake = check;
  }

  async start(): Promise<void> {
    await this.#liveness.start();
    // A claim from this worker means another worker took the call over, unless this worker's lease
    // is newer than the one claimed: a claim read late must not stop a copy it has claimed back since.
    const notices = await this.#kv.watch({
      key: claimsFrom(this.worker),
      include: KvWatchInclude.UpdatesOnly,
    });
    this.#stopOwnWatch = () => notices.stop();
    (async () => {
      for await (const e of notices) {
        if (e.operation !== "PUT") continue;
        const { callSid, revision } = parseClaimKey(e.key, this.worker);
        if (await this.#claimedAway(callSid, revision)) this.onLost?.(callSid);
      }
    })().catch(() => {});
  }

  /**
   * The calls among `live` that another worker has claimed from this one (no lease of ours left, or a
   * claim of the lease we hold), read fresh from the server: after a stall, before they go on.
   */
  async lostOf(live: Iterable<string>): Promise<string[]> {
    const leased = new Set<string>();
    for await (const key of await this.#kv.keys(leasesOfWorker(this.worker)))
      leased.add(callOfLeaseKey(key, this.worker));
    const claimed = new Map<string, number>();
    for await (const key of await this.#kv.keys(claimsFrom(this.worker))) {
      const { callSid, revision } = parseClaimKey(key, this.worker);
      claimed.set(callSid, Math.max(revision, claimed.get(callSid) ?? 0));
    }
    const lost: string[] = [];
    for (const callSid of live) {
      const revision = claimed.get(callSid);
      if (!leased.has(callSid)) lost.push(callSid);
      else if (revision !== undefined && (await this.#claimedAway(callSid, revision))) lost.push(callSid);
    }
    return lost;
  }

  async #claimedAway(callSid: string, revision: number): Promise<boolean> {
    const lease = await this.#kv.get(ownerKey(this.worker, callSid)).catch(() => null);
    return lease?.operation !== "PUT" || lease.revision <= revision;
  }

  /** Records that this worker owns the call, started from `job` (encoded); resolves once stored. */
  async own(callSid: string, job: Uint8Array): Promise<void> {
    await this.#kv.put(ownerKey(this.worker, callSid), job);
  }

  /** Whether this worker has found `worker` dead (its calls are being claimed). */
  isDead(worker: string): boolean {
    return this.#liveness.isDead(worker);
  }

  /** The job stored in this worker's lease on the call, or undefined when it has none. */
  async job(callSid: string): Promise<CallJob | undefined> {
    const lease = await this.#kv.get(ownerKey(this.worker, callSid));
    return lease?.operation === "PUT" ? leaseJob(lease.value) : undefined;
  }

  /** The workers that hold a lease on the call (normally one; two for a moment during a claim). */
  async holders(callSid: string): Promise<string[]> {
    const found: string[] = [];
    for await (const key of await this.#kv.keys(leaseKeysOf(callSid)))
      found.push(workerOfLeaseKey(key, callSid));
    return found;
  }

  /** The call ended here: it has no owner any more. */
  async release(callSid: string): Promise<void> {
    await this.#kv.purge(ownerKey(this.worker, callSid));
  }

  /**
   * The call ended here and its record is stored: its lease is purged without waiting for the
   * server's acknowledgement, which would only be logged (issue #20: a reply and a request fewer per
   * call). A purge lost on the way leaves a lease that `CallHost.resume` finds harmless: it looks
   * for the call's record first.
   */
  releaseEnded(callSid: string): void {
    const kv = this.#kv;
    if (!this.#nc || !(kv instanceof Bucket)) {
      this.release(callSid).catch((err) =>
        this.#log.warn({ err, callSid }, "cannot delete ended call's lease"),
      );
      return;
    }
    const h = headers();
    h.set("KV-Operation", "PURGE");
    h.set("Nats-Rollup", "sub");
    this.#nc.publish(kv.subjectForKey(kv.encodeKey(ownerKey(this.worker, callSid)), true), Empty, {
      headers: h,
    });
  }

  /**
   * Claims the dead worker's calls for this worker and returns the ones won (see the top of this
   * file), skipping those `running` here already. A call whose claim could not be decided
   * (nats-server unreachable) is left with the dead worker's lease, for the next sweep. Asked again
   * while a round for `dead` runs, it returns nothing and that round goes once more when it ends:
   * two rounds at once would both find a claim naming this worker and both launch the call.
   */
  async claim(dead: string, running: (callSid: string) => boolean): Promise<string[]> {
    const current = this.#rounds.get(dead);
    if (current) {
      current.again = true;
      return [];
    }
    const round = { again: true };
    this.#rounds.set(dead, round);
    const won: string[] = [];
    try {
      while (round.again) {
        round.again = false;
        won.push(...(await this.#claimRound(dead, running)));
      }
    } finally {
      this.#rounds.delete(dead);
    }
    return [...new Set(won)];
  }

  async #claimRound(dead: string, running: (callSid: string) => boolean): Promise<string[]> {
    const kv = this.#kv;
    const won: string[] = [];
    const keys: string[] = [];
    for await (const key of await kv.keys(leasesOfWorker(dead))) keys.push(key);
    // Survivors claim in different orders, so a large hand-over is shared rather than fought over.
    keys.sort(() => Math.random() - 0.5);
    for (const key of keys) {
      const callSid = callOfLeaseKey(key, dead);
      // Won by an earlier round (whose purge of the dead lease failed): it runs here already.
      if (running(callSid)) continue;
      const lease = await kv.get(key);
      if (lease?.operation !== "PUT") continue;
      // Our lease first, the claim second, the dead one's lease last: dying in between leaves a lease
      // someone will claim, never a call no one would ever resume.
      await this.own(callSid, lease.value);
      const claim = claimKey(dead, callSid, lease.revision);
      const winner = await kv.create(claim, this.worker).then(
        () => this.worker,
        async () => {
          const entry = await kv.get(claim).catch(() => null);
          return entry?.operation === "PUT" ? entry.string() : undefined;
        },
      );
      if (winner !== this.worker) {
        // Another worker won it, or nobody yet (the dead lease stays for the next sweep).
        if (winner === undefined)
          this.#log.warn({ callSid, dead }, "claim undecided; the next sweep tries again");
        await this.release(callSid).catch(() => {});
        continue;
      }
      await kv.purge(key).catch(() => {}); // left, the next sweep finds the claim ours again
      won.push(callSid);
    }
    // The dead worker's heartbeat would only be judged again by every worker that starts later;
    // one already deleted (a clean stop) is left as it is, not deleted once more per sweep.
    const beat = await kv.get(heartbeatKey(dead)).catch(() => null);
    if (beat?.operation === "PUT") await kv.purge(heartbeatKey(dead)).catch(() => {});
    return won;
  }

  /**
   * Stops beating. With `handOver`, deletes the heartbeat so the others take this worker's calls at
   * once rather than after DEAD_AFTER_MS.
   */
  async stop(handOver: boolean): Promise<void> {
    this.#stopOwnWatch?.();
    await this.#liveness.stop(handOver);
  }
}
