// Builds one call from its job, new or resumed: its clock, channel, cookies, snapshot writer and actor
// (of the machine provided with the region's effects), and the actor's inspection (every state change
// published, and stored once the call is leased). The one place a call is made; call-host.ts runs it.
import { type Actor, createActor, type InspectionEvent, type Snapshot } from "xstate";
import type { CallMachine } from "../../../machines/call.machine.js";
import { migrateCallSnapshot } from "../../../machines/call.migrate.js";
import { CallClock } from "../../clock/call-clock.js";
import type { CallJob } from "../../protocol/call-job.js";
import type { ChannelOut } from "../../protocol/channel-events.js";
import type { CallerScript } from "../../protocol/offer.js";
import { intern } from "../../util/intern.js";
import { CookieJar } from "../../webhook/cookies.js";
import { RemoteChannel } from "../channel/remote-channel.js";
import { SimulatedChannel } from "../channel/simulated-channel.js";
import { DEFAULT_TALK_S } from "../dial/dial-network.js";
import { type RegionCallMachine, regionCallMachine } from "../effects/region-machine.js";
import type { RegionRuntime } from "../runtime.js";
import type { DialLegRef } from "./dial-legs.js";
import type { HostedChannel } from "./hosted-channel.js";
import { type CallLookup, LiveCall } from "./live-call.js";
import { SnapshotWriter } from "./snapshot-writer.js";
import type { StoredActor } from "./stored-actor.js";

/** A call resumed from its stored snapshot: XState's part, and switchboard's (`sb`). */
export interface RestoredCall {
  snapshot: unknown;
  sb: StoredActor["sb"];
  /**
   * Its Dial's legs still up (stale-legs.ts): the one it was bridged to, or the SIP legs it was
   * ringing. The Dial takes them back.
   */
  keptLegs?: DialLegRef[] | undefined;
}

export class CallBuilder {
  readonly #rt: RegionRuntime;
  /** This worker: the owner named in every snapshot it stores. */
  readonly #owner: string;
  readonly #machine: RegionCallMachine;

  /** Runs a call's timer or snapshot write now, or once the worker knows the call is still its own. */
  readonly #gate: (fn: () => void) => void;

  constructor(rt: RegionRuntime, owner: string, callOf: CallLookup, gate: (fn: () => void) => void) {
    this.#rt = rt;
    this.#gate = gate;
    this.#owner = owner;
    this.#machine = regionCallMachine(rt, callOf);
  }

  /** Makes the call's parts and its actor, not started: the host registers it first. */
  build(job: CallJob, restored?: RestoredCall): LiveCall {
    const rt = this.#rt;
    const owner = this.#owner;
    const gate = this.#gate;
    const clock = new CallClock(job.caller?.timeScale ?? 1, clockStart(job, restored?.sb), gate);
    // Sent on `.out` and kept in order among the call's inspection events.
    const publish = (event: ChannelOut) => rt.inspector.command(job.callSid, event, clock.now());
    let actor: Actor<CallMachine> | undefined;
    const snapshots: SnapshotWriter = new SnapshotWriter(
      rt.stores.actors,
      job.callSid,
      (): StoredActor => {
        const cookies = call.cookies.saved();
        const dialLegs = call.storedDialLegs();
        const streams = call.storedStreams();
        return {
          ...call.actor.getPersistedSnapshot(),
          sb: {
            owner,
            job,
            clockAt: clock.now(),
            channel: call.channel.state(),
            ...(cookies && { cookies }),
            ...(call.leg && { leg: call.leg }),
            ...(dialLegs && { dialLegs }),
            ...(call.hostedCallee && { hostedCallee: call.hostedCallee }),
            ...(call.timeLimitS !== undefined && { timeLimitS: call.timeLimitS }),
            ...(streams && { streams }),
          },
        } satisfies StoredActor;
      },
      (err) => rt.log.error({ err, callSid: job.callSid }, "cannot persist call snapshot"),
      { holdFirst: restored === undefined, stored: restored !== undefined, gate },
    );
    const onCallerHangup = () => actor?.send({ type: "channel.hangup" });
    const legChannel = (gateway: string): HostedChannel =>
      new RemoteChannel(
        rt.bus.nc,
        rt.bus.subjects.sipCallCommand(gateway, job.callSid),
        clock,
        publish,
        onCallerHangup,
      );
    // A SIP call's audio is on its gateway (real time), as is an outbound call's SIP leg once placed
    // (a resumed one names its gateway in `sb.leg`); any other call's is simulated here.
    const leg = restored?.sb.leg;
    const gateway = job.sip?.gateway ?? leg?.gateway;
    const channel: HostedChannel = gateway
      ? legChannel(gateway)
      : new SimulatedChannel(
          clock,
          rt.webhooks,
          publish,
          channelScript(job),
          onCallerHangup,
          restored?.sb.channel,
        );
    let lastValue = "";
    // Every state change is published for inspection and marks the snapshot stale (SnapshotWriter
    // stores it within its window). The inspection event (unlike a plain subscription) also says
    // which event caused the change; only the call's root actor counts. `call` is set by then: no
    // event passes the first test before createActor has returned.
    const onInspect = (ev: InspectionEvent) => {
      if (ev.type !== "@xstate.snapshot" || ev.actorRef !== actor) return;
      const snapshot = ev.snapshot as ReturnType<Actor<CallMachine>["getSnapshot"]>;
      const { context } = snapshot;
      // Every verb runs in the one `verb` state: the verb's name tells one verb's step from the next.
      const value = intern(JSON.stringify(snapshot.value) + (context.verb ?? ""));
      if (value === lastValue) return;
      lastValue = value;
      call.stateChanged();
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
      // The call's last state: its batch goes now rather than at the end of the window.
      if (snapshot.status === "done") rt.inspector.flushCall(job.callSid);
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
          direction: job.outbound ? "outbound-api" : "inbound",
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
    const call: LiveCall = new LiveCall({
      callSid: job.callSid,
      actor,
      clock,
      channel,
      legChannel,
      leg,
      hostedCallee: restored?.sb.hostedCallee,
      cookies: new CookieJar(undefined, restored?.sb.cookies),
      snapshots,
      offeredAt: job.offeredAt,
      caller: job.caller,
      outbound: job.outbound,
      timeLimitS: storedTimeLimit(restored?.sb.timeLimitS) ?? job.outbound?.timeLimitS,
      sipGateway: job.sip?.gateway,
      // No snapshot is stored before the lease that points at it: a resumed call's is stored already.
      leased: restored !== undefined,
    });
    return call;
  }
}

/** Where a call's clock starts: a resumed call's simulated time goes on from where it was stored. */
export function clockStart(job: CallJob, stored?: Pick<StoredActor["sb"], "clockAt">): number {
  const scale = job.caller?.timeScale ?? 1;
  return stored && scale < 1 ? stored.clockAt : Date.now();
}

/**
 * The script the call's simulated party plays. An outbound call's party is its callee: it talks as
 * long as the script's `callees` entry for `to` says (30 s by default) and then hangs up, unless
 * the script says when (`hangupAfter`). A hosted callee ends the call when its own call ends.
 */
function channelScript(job: CallJob): CallerScript | undefined {
  if (!job.outbound) return job.caller;
  const callee = job.caller?.callees?.[job.to];
  return { ...job.caller, hangupAfter: job.caller?.hangupAfter ?? callee?.talk ?? DEFAULT_TALK_S };
}

/** A stored TimeLimit, as read back: a snapshot written by another version may hold anything. */
function storedTimeLimit(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 1 ? (value as number) : undefined;
}
