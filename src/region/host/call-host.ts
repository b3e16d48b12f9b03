// Hosts this worker's live calls: one root XState actor per call, held in a plain Map (spawning
// calls as children of one host actor is quadratic, DESIGN.md §9). It starts, resumes, hands over and
// finishes calls (their leases), and routes each call's messages to it; build-call.ts makes a call.
import type { Msg, Subscription } from "@nats-io/transport-node";
import type { CallFacts } from "../../../machines/call.machine.js";
import type { CallJob } from "../../protocol/call-job.js";
import { encode } from "../../protocol/codec.js";
import { resumeHostedCallee } from "../dial/outbound-callee.js";
import { endStaleLegs } from "../dial/stale-legs.js";
import { MAX_CALL_DURATION_MS } from "../effects/timers.js";
import type { RegionRuntime } from "../runtime.js";
import { CallBuilder, clockStart, type RestoredCall } from "./build-call.js";
import { takeCallControl, takeChannelInput, takeLegControl } from "./call-messages.js";
import type { DialLegRef } from "./dial-legs.js";
import { storeFailedCall } from "./failed-call.js";
import type { WorkerLeases } from "./leases.js";
import { CallEndObserver, type LiveCall } from "./live-call.js";
import type { FailedEndContext } from "./store-failed-end.js";
import type { StoredActor } from "./stored-actor.js";

export class CallHost {
  readonly #calls = new Map<string, LiveCall>();
  /**
   * Calls being resumed here, from before the first await of `resume` until they are live (or not):
   * checked with `#calls` and set in one synchronous step, so no call is launched twice.
   */
  readonly #resuming = new Set<string>();
  readonly #rt: RegionRuntime;
  /** Which calls this worker owns; noticing dead workers. */
  readonly #leases: WorkerLeases;
  readonly #builder: CallBuilder;
  /** What ending a failed call writes with. */
  readonly #failedEnd: FailedEndContext;
  readonly #subs: Subscription[] = [];
  #idle: (() => void) | undefined;
  /** Called after a call has ended and its record is stored. */
  onCallEnded: ((callSid: string) => void) | undefined;
  /** Twilio's maximum call duration; shorter only in tests. */
  maxCallMs = MAX_CALL_DURATION_MS;

  constructor(rt: RegionRuntime, leases: WorkerLeases) {
    this.#rt = rt;
    this.#leases = leases;
    // A call taken over while this worker was stalled is stopped before its timers run (a stopped
    // actor ignores them).
    this.#builder = new CallBuilder(
      rt,
      leases.worker,
      (sid) => this.#live(sid),
      (fn) => leases.gate(fn),
    );
    // After a stall, calls another worker claimed meanwhile stop before any of them goes on. Only
    // calls whose lease is stored: one still starting has nothing another worker could claim (its
    // job is acked only once its lease is stored), and the lease being written may not be listed
    // yet — judged lost, a call that had just started was dropped, unrun and unrecorded.
    leases.onWake = async () => {
      const leased = [...this.#calls.values()].filter((c) => c.isLeased).map((c) => c.callSid);
      for (const callSid of await leases.lostOf(leased)) this.lose(callSid);
    };
    const { region, bus, stores, outbox, inspector, log } = rt;
    this.#failedEnd = {
      region,
      nc: bus.nc,
      subjects: bus.subjects,
      stores,
      notifier: outbox.notifier,
      inspector,
      log,
    };
  }

  /**
   * Subscribes once for every call's live input and control (`call.*.in`, `call.*.control`) and
   * routes each message by its CallSid: one subscription per worker, not one per call. A control
   * request for a call another worker hosts is left for that worker to answer.
   */
  listen(): void {
    const { bus, region } = this.#rt;
    const { nc, subjects } = bus;
    const sidAt = subjects.callIn(region, "X").split(".").indexOf("X");
    this.#subs.push(
      nc.subscribe(subjects.allCallIn(region), {
        callback: (err, msg) => {
          if (!err) this.#input(msg.subject.split(".")[sidAt] ?? "", msg);
        },
      }),
      nc.subscribe(subjects.allCallControl(region), {
        callback: (err, msg) => {
          if (!err) this.#control(msg.subject.split(".")[sidAt] ?? "", msg);
        },
      }),
    );
  }

  /** Live calls by top-level state, for the worker's stats. */
  byState(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.#calls.values()) {
      const value = call.actor.getSnapshot().value;
      const top = typeof value === "string" ? value : (Object.keys(value)[0] ?? "");
      counts[top] = (counts[top] ?? 0) + 1;
    }
    return counts;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Whether the call runs here, or is being resumed here. */
  has(callSid: string): boolean {
    return this.#calls.has(callSid) || this.#resuming.has(callSid);
  }

  /**
   * Starts a call; resolves once it is owned here (durable: its lease holds the job, `encoded`). The
   * call starts running (its webhook is requested) while its lease is being stored: a worker that
   * dies before that has not acked the call, so the stream gives it to another worker, which
   * requests the same document again with the same idempotency token, as a resume would. Its first
   * snapshot is stored only if it is still live after the snapshot window (snapshot-writer.ts).
   */
  async start(job: CallJob, encoded: Uint8Array = encode(job)): Promise<void> {
    if (this.has(job.callSid)) return;
    const owned = this.#leases.own(job.callSid, encoded);
    owned.catch(() => {}); // awaited in #launch; unhandled until then
    await this.#launch(job, undefined, owned);
  }

  /**
   * Resumes a call this worker has just claimed from a dead one, from its last stored snapshot: the
   * effect it was in runs again (an in-flight webhook is requested again, with the same idempotency
   * token; a Gather listens again from the start; a Say or Pause plays again in full), or, with no
   * snapshot yet, afresh from the job in its lease. `from` is the worker it came from. False when
   * it was not launched: it ended already, or it runs (or is being resumed) here already.
   */
  async resume(callSid: string, from: string): Promise<boolean> {
    if (this.has(callSid)) return false; // claimed again by a sweep: it runs here already
    this.#resuming.add(callSid);
    try {
      return await this.#resume(callSid, from);
    } finally {
      this.#resuming.delete(callSid);
    }
  }

  async #resume(callSid: string, from: string): Promise<boolean> {
    const leases = this.#leases;
    const { stores, inspector } = this.#rt;
    if ((await stores.calls.get(callSid)) !== undefined) {
      // It ended (its lease outlived it: a release that failed); running it again would be a second call.
      await leases.release(callSid);
      return false;
    }
    const stored = (await stores.actors.get(callSid)) as StoredActor | undefined;
    if (stored?.sb) {
      const { sb, ...snapshot } = stored;
      // The Dial it was in runs again: a leg it was bridged to that still talks, or SIP legs still
      // ringing, are kept for it to take back; the others are ended first, so a SIP callee is hung up
      // before it is called again (a phone still in that call would answer the new INVITE busy).
      const parent = (snapshot as { context?: { facts?: CallFacts } }).context?.facts;
      const keptLegs =
        sb.dialLegs && parent
          ? await endStaleLegs(this.#rt, sb.dialLegs, parent, clockStart(sb.job, sb), true)
          : undefined;
      await this.#launch(sb.job, { snapshot, sb, keptLegs });
    } else {
      // No snapshot yet (its owner died inside the first window): the lease's job starts it afresh,
      // as the stream's redelivery would, without waiting for the stream's ack timeout.
      const job = await leases.job(callSid);
      if (!job) {
        // A lease without a job (written by an older worker): the stream redelivers the call.
        await leases.release(callSid);
        return false;
      }
      await this.#launch(job);
    }
    inspector.publish(callSid, { type: "resumed", worker: leases.worker, from });
    return true;
  }

  /**
   * Builds the call and runs it here. A new call is stored as this worker's once its lease (`owned`)
   * is; a resumed one is leased already, and its snapshot is stored as this worker's now.
   */
  async #launch(
    job: CallJob,
    restored?: RestoredCall,
    owned: Promise<void> = Promise.resolve(),
  ): Promise<void> {
    const call = this.#builder.build(job, restored);
    if (restored?.keptLegs?.length) this.#keep(call, restored.keptLegs);
    if (restored?.sb.streams?.length) call.streams().restore(restored.sb.streams);
    this.#calls.set(job.callSid, call);
    call.actor.subscribe(new CallEndObserver(call, this.#ended));
    call.actor.start();
    const { answeredAt } = call.actor.getSnapshot().context;
    call.limitDuration(this.maxCallMs);
    if (restored) {
      call.channel.resumeScript(answeredAt);
      await resumeHostedCallee(this.#rt, call, restored.sb.hostedCallee).catch((err: unknown) =>
        this.#rt.log.warn({ err, callSid: call.callSid }, "cannot follow the hosted number's call again"),
      );
      await call.snapshots.settled(); // stored as this worker's now
      return;
    }
    try {
      await owned;
    } catch (err) {
      // A call that already ended here has its record and callbacks stored: it is done, and given
      // again to a worker it would run twice. Any other is stopped and left to the stream.
      if (call.actor.getSnapshot().status === "done") return;
      call.actor.stop();
      // The put may have been stored though it failed here: a lease with no call behind it must go.
      await this.#leases.release(job.callSid).catch(() => {});
      throw err;
    }
    call.leaseStored();
  }

  /**
   * Gives a resumed call the legs its Dial was bridged to or ringing, for the Dial to take back; if
   * the call ends (or its Dial rings other numbers) first, they are ended as any stale one is.
   */
  #keep(call: LiveCall, legs: DialLegRef[]): void {
    for (const leg of legs) call.dialLegs.keep(leg);
    const { facts } = call.actor.getSnapshot().context;
    call.atClose(() => {
      const left = call.dialLegs.takeKept();
      if (left.length && !call.handedOver) void endStaleLegs(this.#rt, left, facts, call.clock.now());
    });
  }

  /**
   * A call's actor has ended. XState calls `complete` for a stopped actor too: only a call that reached
   * its end is finished; a stopped one (hand-over, lost lease) keeps its snapshot for the next owner.
   */
  readonly #ended = (call: LiveCall, failure?: { err: unknown }): void => {
    if (failure) {
      this.#rt.log.error({ err: failure.err, callSid: call.callSid }, "call actor failed");
      // Ended with a failed record first: releasing the lease of a call with no record would lose it.
      storeFailedCall(this.#failedEnd, call, failure.err).then(
        () => this.#finish(call),
        (err: unknown) => {
          this.#rt.log.error(
            { err, callSid: call.callSid },
            "cannot store a failed call's record; keeping its lease",
          );
          this.#detach(call);
        },
      );
    } else if (call.actor.getSnapshot().status === "done") void this.#finish(call);
    else this.#detach(call);
  };

  /** Resolves when no call is live, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#calls.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Stops every live actor and waits for their snapshots to be stored: each stays owned by this
   * worker, so another worker resumes it once this one's heartbeat is gone.
   */
  async stopAll(): Promise<void> {
    for (const sub of this.#subs.splice(0)) sub.unsubscribe();
    const calls = [...this.#calls.values()];
    // Each snapshot is taken before its actor stops: the state to resume.
    await Promise.all(calls.map((call) => call.handOver()));
  }

  /** Another worker took the call over (this one was thought dead): stop this copy, store nothing. */
  lose(callSid: string): void {
    const call = this.#calls.get(callSid);
    if (!call) return;
    this.#rt.log.warn({ callSid }, "call was taken over by another worker; stopping this copy");
    call.drop();
  }

  #live(callSid: string): LiveCall {
    const call = this.#calls.get(callSid);
    if (!call) throw new Error(`call ${callSid} is not live on this worker`);
    return call;
  }

  #input(callSid: string, msg: Msg): void {
    const call = this.#calls.get(callSid);
    if (call) takeChannelInput(this.#rt, call, msg);
  }

  #control(callSid: string, msg: Msg): void {
    const call = this.#calls.get(callSid);
    if (call) {
      takeCallControl(this.#rt, call, msg);
      return;
    }
    // Not a call of ours: perhaps a <Dial> leg one of ours is bridged to. A REST change to a CallSid
    // is rare, so the calls are searched rather than every leg indexed.
    for (const parent of this.#calls.values()) {
      const leg = parent.bridgedLeg(callSid);
      if (leg) {
        takeLegControl(leg, parent.callSid, callSid, msg);
        return;
      }
    }
  }

  async #finish(call: LiveCall): Promise<void> {
    call.clock.dispose();
    await call.snapshots.settled();
    try {
      // The record is stored: the snapshot and the lease are not needed by anyone any more.
      if (call.snapshots.inBucket) await this.#rt.stores.actors.delete(call.callSid);
    } catch (err) {
      this.#rt.log.warn({ err, callSid: call.callSid }, "cannot delete finished call's snapshot");
    }
    this.#leases.releaseEnded(call.callSid);
    this.#detach(call);
    this.onCallEnded?.(call.callSid);
  }

  #detach(call: LiveCall): void {
    call.close();
    if (this.#calls.get(call.callSid) !== call) return;
    this.#calls.delete(call.callSid);
    if (this.#calls.size === 0) this.#idle?.();
  }
}
