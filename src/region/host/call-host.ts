// Hosts this worker's live calls: one root XState actor per call, held in a plain Map (spawning
// calls as children of one host actor is quadratic, DESIGN.md §9). The machine is provided with
// the real effects once; each call gets its own clock, channel, cookies and snapshot writer.
import type { Msg, Subscription } from "@nats-io/transport-node";
import { type Actor, createActor, type InspectionEvent, type Snapshot } from "xstate";
import { callMachine } from "../../../machines/call.machine.js";
import { migrateCallSnapshot } from "../../../machines/call.migrate.js";
import { CallClock } from "../../clock/call-clock.js";
import { type CallJob, parseCallJob } from "../../protocol/call-job.js";
import type { ChannelOut } from "../../protocol/channel-events.js";
import { decode, encode } from "../../protocol/codec.js";
import { intern } from "../../util/intern.js";
import { CookieJar } from "../../webhook/cookie-jar.js";
import { RemoteChannel } from "../channel/remote-channel.js";
import { SimulatedChannel } from "../channel/simulated-channel.js";
import { endCall } from "../effects/end-call.js";
import { fetchTwiml } from "../effects/fetch-twiml.js";
import { loadNumber } from "../effects/load-number.js";
import { MAX_CALL_DURATION_MS, retryDelay } from "../effects/timers.js";
import { announceCall, answerCall, runVerb } from "../effects/verbs.js";
import type { RegionRuntime } from "../runtime.js";
import { CallStreams } from "../streams/call-streams.js";
import { takeCallControl, takeChannelInput } from "./call-messages.js";
import { storeFailedCall } from "./failed-call.js";
import { CallEndObserver, type HostedChannel, type LiveCall, type StoredActor } from "./live-call.js";
import { SnapshotWriter } from "./snapshot-writer.js";

export class CallHost {
  readonly #calls = new Map<string, LiveCall>();
  readonly #rt: RegionRuntime;
  readonly #machine;
  readonly #subs: Subscription[] = [];
  #idle: (() => void) | undefined;
  /** Called after a call has ended and its record is stored. */
  onCallEnded: ((callSid: string) => void) | undefined;
  /** Twilio's maximum call duration; shorter only in tests. */
  maxCallMs = MAX_CALL_DURATION_MS;

  constructor(rt: Omit<RegionRuntime, "call">) {
    this.#rt = { ...rt, call: (sid) => this.#live(sid) };
    const r = this.#rt;
    this.#machine = callMachine.provide({
      actors: {
        loadNumber: loadNumber(r),
        announceCall: announceCall(r),
        fetchTwiml: fetchTwiml(r),
        answerCall: answerCall(r),
        endCall: endCall(r),
        retryDelay: retryDelay(),
        runVerb: runVerb(r),
      },
      actions: {
        reportError: ({ context }, params) => {
          // Fetch failures name the request that failed, as Twilio's notifications do.
          const request = context.request;
          r.notifier.notify({
            accountSid: context.facts.accountSid ?? "",
            callSid: context.facts.callSid,
            level: "error",
            code: params.code,
            message: params.message,
            ...(request && { requestUrl: request.url, requestMethod: request.method }),
          });
        },
      },
    });
  }

  /**
   * Subscribes once for every call's live input and control (`call.*.in`, `call.*.control`) and
   * routes each message by its CallSid: one subscription per worker, not one per call. A control
   * request for a call another worker hosts is left for that worker to answer.
   */
  listen(): void {
    const { nc, subjects, region } = this.#rt;
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

  has(callSid: string): boolean {
    return this.#calls.has(callSid);
  }

  /**
   * Starts a call; resolves once it is owned here (durable: its lease holds the job, `encoded`). The
   * call starts running (its webhook is requested) while its lease is being stored: a worker that
   * dies before that has not acked the call, so the stream gives it to another worker, which
   * requests the same document again with the same idempotency token, as a resume would. Its first
   * snapshot is stored only if it is still live after the snapshot window (snapshot-writer.ts).
   */
  async start(job: CallJob, encoded: Uint8Array = encode(job)): Promise<void> {
    if (this.#calls.has(job.callSid)) return;
    const owned = this.#rt.leases.own(job.callSid, encoded);
    owned.catch(() => {}); // awaited in #launch; unhandled until then
    await this.#launch(job, undefined, owned);
  }

  /**
   * Resumes a call this worker has just claimed from a dead one, from its last stored snapshot: the
   * effect it was in runs again (an in-flight webhook is requested again, with the same idempotency
   * token; a Gather listens again from the start; a Say or Pause plays again in full), or, with no
   * snapshot yet, afresh from the job in its lease. `from` is the worker it came from.
   */
  async resume(callSid: string, from: string): Promise<boolean> {
    if (this.#calls.has(callSid)) return true; // claimed again by a sweep: it runs here already
    const { leases, stores, inspector } = this.#rt;
    if ((await stores.calls.get(callSid)) !== undefined) {
      // It ended (its lease outlived it: a release that failed); running it again would be a second call.
      await leases.release(callSid);
      return false;
    }
    const stored = (await stores.actors.get(callSid)) as StoredActor | undefined;
    if (stored?.sb) {
      const { sb, ...snapshot } = stored;
      await this.#launch(sb.job, { snapshot, sb });
    } else {
      // No snapshot yet (its owner died inside the first window): the lease's job starts it afresh,
      // as the stream's redelivery would, without waiting for the stream's ack timeout.
      const encoded = await leases.job(callSid);
      if (!encoded) {
        // A lease without a job (written by an older worker): the stream redelivers the call.
        await leases.release(callSid);
        return false;
      }
      await this.#launch(parseCallJob(decode(encoded)));
    }
    inspector.publish(callSid, { type: "resumed", worker: leases.worker, from });
    return true;
  }

  async #launch(
    job: CallJob,
    restored?: { snapshot: unknown; sb: StoredActor["sb"] },
    owned: Promise<void> = Promise.resolve(),
  ): Promise<void> {
    const rt = this.#rt;
    const scale = job.caller?.timeScale ?? 1;
    // A resumed call's clock goes on from where it was (simulated time does not restart).
    const clock = new CallClock(scale, restored && scale < 1 ? restored.sb.clockAt : Date.now());
    // Sent on `.out` and kept in order among the call's inspection events.
    const publish = (event: ChannelOut) => rt.inspector.command(job.callSid, event, clock.now());
    let actor: Actor<typeof this.machine> | undefined;
    const snapshots = new SnapshotWriter(
      rt.stores.actors,
      job.callSid,
      () => {
        const cookies = live.cookies.saved();
        return {
          ...live.actor.getPersistedSnapshot(),
          sb: {
            owner: rt.leases.worker,
            job,
            clockAt: clock.now(),
            channel: channel.state(),
            ...(cookies && { cookies }),
          },
        } satisfies StoredActor;
      },
      (err) => rt.log.error({ err, callSid: job.callSid }, "cannot persist call snapshot"),
      { holdFirst: restored === undefined, stored: restored !== undefined },
    );
    const onCallerHangup = () => actor?.send({ type: "channel.hangup" });
    // A SIP call's audio is on its gateway (real time); any other call's is simulated here.
    const channel: HostedChannel = job.sip
      ? new RemoteChannel(
          rt.nc,
          rt.subjects.sipCallCommand(job.sip.gateway, job.callSid),
          clock,
          publish,
          onCallerHangup,
        )
      : new SimulatedChannel(clock, publish, job.caller, onCallerHangup, restored?.sb.channel);
    // No snapshot is stored before the lease that points at it (a snapshot without a lease is a call
    // no one would ever resume): until then state changes are only published.
    let leased = restored !== undefined;
    let lastValue = "";
    // Every state change is published for inspection and marks the snapshot stale (SnapshotWriter
    // stores it within its window). The inspection event (unlike a
    // plain subscription) also says which event caused the change; only the call's root actor counts.
    const onInspect = (ev: InspectionEvent) => {
      if (ev.type !== "@xstate.snapshot" || ev.actorRef !== actor) return;
      const snapshot = ev.snapshot as ReturnType<typeof live.actor.getSnapshot>;
      const { context } = snapshot;
      // Every verb runs in the one `verb` state: the verb's name tells one verb's step from the next.
      const value = intern(JSON.stringify(snapshot.value) + (context.verb ?? ""));
      if (value === lastValue) return;
      lastValue = value;
      if (leased) void snapshots.changed();
      const verb = context.verbs[context.index];
      rt.inspector.publish(
        job.callSid,
        {
          type: "state",
          value: snapshot.value,
          status: context.status,
          event: ev.event.type,
          verb:
            snapshot.matches("executing-twiml") && verb ? { name: verb.name, index: context.index } : null,
          documentUrl: context.documentUrl,
        },
        clock.now(),
      );
    };
    actor = createActor(this.#machine, {
      clock,
      inspect: onInspect,
      // A call stored by an older machine is brought to this one's shape first (call.migrate.ts).
      ...(restored && { snapshot: migrateCallSnapshot(restored.snapshot) as Snapshot<unknown> }),
      input: {
        facts: {
          callSid: job.callSid,
          to: job.to,
          from: job.from,
          region: rt.region,
          edge: job.edge,
          direction: "inbound",
          ...(job.sipHeaders && { sipHeaders: job.sipHeaders }),
          ...(job.sip && {
            sip: { callId: job.sip.callId, ...(job.sip.sourceIp && { sourceIp: job.sip.sourceIp }) },
          }),
          ...(job.geo && { geo: job.geo }),
        },
        ...(job.accountSid && { accountSid: job.accountSid }),
        arrivedAt: clock.now(),
      },
    });
    const live: LiveCall = {
      callSid: job.callSid,
      actor,
      clock,
      channel,
      cookies: new CookieJar(undefined, restored?.sb.cookies),
      snapshots,
      offeredAt: job.offeredAt,
      ...(job.caller && { caller: job.caller }),
    };
    this.#calls.set(job.callSid, live);

    live.actor.subscribe(new CallEndObserver(live, this.#ended));
    actor.start();
    const { arrivedAt, answeredAt } = actor.getSnapshot().context;
    // Twilio's maximum call duration, on the call's clock from its arrival: a resumed call keeps it.
    live.limit = clock.setTimeout(
      () => live.actor.send({ type: "call.limit" }),
      arrivedAt + this.maxCallMs - clock.now(),
    );
    if (restored) {
      channel.resumeScript(answeredAt);
      await snapshots.settled(); // stored as this worker's now
      return;
    }
    try {
      await owned;
    } catch (err) {
      // A call that already ended here has its record and callbacks stored: it is done, and given
      // again to a worker it would run twice. Any other is stopped and left to the stream.
      if (actor.getSnapshot().status === "done") return;
      actor.stop();
      // The put may have been stored though it failed here: a lease with no call behind it must go.
      await rt.leases.release(job.callSid).catch(() => {});
      throw err;
    }
    leased = true;
    // Stored once the window has passed, if the call is still live by then.
    if (actor.getSnapshot().status === "active") void snapshots.changed();
  }

  /**
   * A call's actor has ended. XState calls `complete` for a stopped actor too: only a call that reached
   * its end is finished; a stopped one (hand-over, lost lease) keeps its snapshot for the next owner.
   */
  readonly #ended = (call: LiveCall, failure?: { err: unknown }): void => {
    if (failure) {
      this.#rt.log.error({ err: failure.err, callSid: call.callSid }, "call actor failed");
      // Ended with a failed record first: releasing the lease of a call with no record would lose it.
      storeFailedCall(this.#rt, call, failure.err).then(
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
    const stored = calls.map((call) => {
      call.handingOver = true;
      const sealed = call.snapshots.seal(); // taken before the stop: the state to resume
      call.actor.stop();
      return sealed;
    });
    await Promise.all(stored);
  }

  /** Another worker took the call over (this one was thought dead): stop this copy, store nothing. */
  lose(callSid: string): void {
    const call = this.#calls.get(callSid);
    if (!call) return;
    this.#rt.log.warn({ callSid }, "call was taken over by another worker; stopping this copy");
    call.handingOver = true;
    call.snapshots.discard();
    call.actor.stop();
  }

  private get machine() {
    return this.#machine;
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
    if (call) takeCallControl(this.#rt, call, msg);
  }

  async #finish(call: LiveCall): Promise<void> {
    call.clock.dispose();
    await call.snapshots.settled();
    try {
      // The record is stored: the snapshot and the lease are not needed by anyone any more.
      if (call.snapshots.inBucket) await this.#rt.stores.actors.delete(call.callSid);
      await this.#rt.leases.release(call.callSid);
    } catch (err) {
      this.#rt.log.warn({ err, callSid: call.callSid }, "cannot delete finished call's snapshot or lease");
    }
    this.#detach(call);
    this.onCallEnded?.(call.callSid);
  }

  #detach(call: LiveCall): void {
    call.clock.clearTimeout(call.limit);
    call.clock.dispose();
    // Closed even if never opened: a verb still running that opens one has it stopped at once.
    call.streams ??= new CallStreams(call.clock);
    call.streams.closeAll();
    if (this.#calls.get(call.callSid) !== call) return;
    this.#calls.delete(call.callSid);
    if (this.#calls.size === 0) this.#idle?.();
  }
}
