// Hosts this worker's live calls: one root XState actor per call, held in a plain Map (spawning
// calls as children of one host actor is quadratic, DESIGN.md §9). The machine is provided with
// the real effects once; each call gets its own clock, channel, cookies and snapshot writer.
import type { Msg, Subscription } from "@nats-io/transport-node";
import { type Actor, createActor, type InspectionEvent } from "xstate";
import { callMachine } from "../../machines/call.machine.js";
import { decode, encode, encodingOf } from "../bus/codec.js";
import { respondError, respondValue } from "../bus/service-error.js";
import { CallClock } from "../clock/call-clock.js";
import { parseCallControl } from "../model/call-control.js";
import type { CallJob } from "../model/call-job.js";
import { CookieJar } from "../webhook/cookie-jar.js";
import { applyCallControl } from "./call-control.js";
import { ChannelInSchema, type ChannelOut } from "./channel-events.js";
import { endCall } from "./effects/end-call.js";
import { fetchTwiml } from "./effects/fetch-twiml.js";
import { loadNumber } from "./effects/load-number.js";
import { announceCall, answerCall, verbActors } from "./effects/verbs.js";
import type { LiveCall } from "./live-call.js";
import type { RegionRuntime } from "./runtime.js";
import { SimulatedChannel } from "./simulated-channel.js";
import { SnapshotWriter } from "./snapshot-writer.js";

export class CallHost {
  readonly #calls = new Map<string, LiveCall>();
  readonly #rt: RegionRuntime;
  readonly #machine;
  readonly #subs: Subscription[] = [];
  #idle: (() => void) | undefined;
  /** Called after a call has ended and its record is stored. */
  onCallEnded: ((callSid: string) => void) | undefined;

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
        ...verbActors(r),
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

  /** Starts a call; resolves once its first snapshot is stored, so the call is durable here. */
  async start(job: CallJob): Promise<void> {
    if (this.#calls.has(job.callSid)) return;
    const rt = this.#rt;
    const clock = new CallClock(job.caller?.timeScale ?? 1);
    const outSubject = rt.subjects.callOut(rt.region, job.callSid);
    const publish = (event: ChannelOut) => rt.nc.publish(outSubject, encode(event));
    let actor: Actor<typeof this.machine> | undefined;
    const snapshots = new SnapshotWriter(rt.stores.actors, job.callSid, (err) =>
      rt.log.error({ err, callSid: job.callSid }, "cannot persist call snapshot"),
    );
    const channel = new SimulatedChannel(clock, publish, job.caller, () =>
      actor?.send({ type: "channel.hangup" }),
    );
    let lastValue = "";
    // Every state change is persisted and published for inspection. The inspection event (unlike a
    // plain subscription) also says which event caused the change; only the call's root actor counts.
    const onInspect = (ev: InspectionEvent) => {
      if (ev.type !== "@xstate.snapshot" || ev.actorRef !== actor) return;
      const snapshot = ev.snapshot as ReturnType<typeof live.actor.getSnapshot>;
      const value = JSON.stringify(snapshot.value);
      if (value === lastValue) return;
      lastValue = value;
      void snapshots.write(live.actor.getPersistedSnapshot());
      const { context } = snapshot;
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
      input: {
        facts: {
          callSid: job.callSid,
          to: job.to,
          from: job.from,
          region: rt.region,
          edge: job.edge,
          direction: "inbound",
          ...(job.sipHeaders && { sipHeaders: job.sipHeaders }),
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
      cookies: new CookieJar(),
      snapshots,
      offeredAt: job.offeredAt,
    };
    this.#calls.set(job.callSid, live);

    live.actor.subscribe({
      complete: () => void this.#finish(live),
      error: (err) => {
        rt.log.error({ err, callSid: job.callSid }, "call actor failed");
        void this.#finish(live);
      },
    });
    actor.start();
    await snapshots.settled();
  }

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

  /** Stops every live actor; their last snapshots stay stored so another worker can resume them. */
  stopAll(): void {
    for (const sub of this.#subs.splice(0)) sub.unsubscribe();
    for (const call of this.#calls.values()) {
      call.actor.stop();
      call.clock.dispose();
    }
    this.#calls.clear();
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
    if (!call) return;
    try {
      const event = ChannelInSchema.parse(decode(msg.data, encodingOf(msg.headers)));
      if (event.kind === "hangup") call.actor.send({ type: "channel.hangup" });
      else call.channel.input(event);
    } catch (err) {
      this.#rt.log.warn({ callSid, err }, "ignored invalid channel input");
    }
  }

  #control(callSid: string, msg: Msg): void {
    const call = this.#calls.get(callSid);
    if (!call) return;
    try {
      const change = parseCallControl(decode(msg.data, encodingOf(msg.headers)));
      if (msg.reply) respondValue(msg, applyCallControl(call.actor, change, call.offeredAt));
      else applyCallControl(call.actor, change, call.offeredAt);
    } catch (err) {
      if (msg.reply) respondError(msg, err);
    }
  }

  async #finish(call: LiveCall): Promise<void> {
    call.clock.dispose();
    await call.snapshots.settled();
    try {
      await this.#rt.stores.actors.delete(call.callSid);
    } catch (err) {
      this.#rt.log.warn({ err, callSid: call.callSid }, "cannot delete finished call snapshot");
    }
    this.#calls.delete(call.callSid);
    this.onCallEnded?.(call.callSid);
    if (this.#calls.size === 0) this.#idle?.();
  }
}
