// A hosted number's call a resumed call's <Dial> was ringing, taken back (take-back.ts): heard out
// instead of hung up and the number offered a second call (its previous worker died, or handed the
// call over and left it ringing: hosted-callee.ts).
import { type KV, Kvm } from "@nats-io/kv";
import { buckets } from "../../protocol/subjects.js";
import { readLiveCall } from "../../store/actor-snapshots.js";
import type { LiveCall } from "../host/live-call.js";
import type { HostedCallRef } from "../host/stored-actor.js";
import type { Attempt } from "./child-leg.js";
import {
  type HostedLeg,
  type HostedRuntime,
  hostedAnswer,
  hostedEvents,
  hostedRecord,
  offerHosted,
} from "./hosted-callee.js";

/**
 * A hosted number's call a resumed call's <Dial> was ringing (stale-legs.ts kept it: no record of
 * its end): heard out instead of a new call offered to the number. What it did while no worker
 * listened is read after subscribing to its `.out`, so nothing is missed: its record, if it ended
 * (answered first when it completed), else its stored snapshot's answer, watched until the answer
 * or the end is heard (a snapshot is stored within a second of a change: snapshot-writer.ts), or
 * the snapshot is deleted (its record is then read).
 */
export async function resumeHostedRinging(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  named: HostedCallRef,
  options: { timeoutS: number },
  signal: AbortSignal,
  /** Told when the call, offered again, runs in another region than the one stored. */
  onRegion: (hosted: HostedCallRef) => Promise<void>,
): Promise<Attempt> {
  signal.throwIfAborted();
  let hosted = named;
  const events = hostedEvents(rt, hosted.callSid);
  const release = call.clock.hold();
  /** When it answered on this call's clock, when it talked to its end while no worker listened. */
  let answeredAt: number | undefined;
  try {
    await rt.bus.nc.flush();
    // Ended: its record says how (only an answered call completes, and for how long it talked).
    const ended = async () => {
      const record = await hostedRecord(rt, hosted.region, hosted.callSid).catch(() => undefined);
      if (!record) return false;
      if (record.status === "completed") {
        answeredAt ??= call.clock.now() - Number(record.duration ?? 0) * 1000;
        events.saw("answer");
      }
      events.end(record.status);
      events.saw(record.status);
      return true;
    };
    let over = await ended();
    if (!over) {
      hosted = await offerAgainIfUnseen(rt, call, leg, hosted, signal, onRegion);
      // Ended in the region the edge named, it has no snapshot left there to watch.
      if (hosted !== named) over = await ended();
    }
    if (!over) {
      // Not waited for: a bucket this worker may not read (another region's) leaves only `.out`.
      const watch = watchAnswer(rt, hosted, {
        answered: () => events.saw("answer"),
        gone: () => void ended(),
      });
      watch.catch(() => {});
      const stopWatching = () =>
        void watch.then(
          (w) => w.stop(),
          () => {},
        );
      events.also(stopWatching);
      void events.first.then(stopWatching);
    }
  } catch (err) {
    events.stop();
    release();
    throw err;
  }
  const attempt = await hostedAnswer(rt, call, leg, hosted, events, release, { ...options, signal });
  return attempt.answered && answeredAt !== undefined ? { ...attempt, answeredAt } : attempt;
}

/**
 * Offers the hosted call again, with the same CallSid, when no worker holds it (no snapshot, no
 * lease; its record was looked for before): its offer may never have gone out, the worker having
 * died between naming the call and offering it. The edge's claim makes the offer the same call
 * when it did go out (answered with its region, nothing run again). Returns the call as it now is:
 * in the region the edge names. Failing (no edge answers now), the call is still listened for.
 */
async function offerAgainIfUnseen(
  rt: HostedRuntime,
  call: LiveCall,
  leg: HostedLeg,
  hosted: HostedCallRef,
  signal: AbortSignal,
  onRegion: (hosted: HostedCallRef) => Promise<void>,
): Promise<HostedCallRef> {
  // A bucket this worker may not read (another region's) tells nothing: offered again then.
  const seen = await actorsOf(rt, hosted.region)
    .then((kv) => readLiveCall(kv, hosted.callSid))
    .catch(() => undefined);
  if (seen && seen.kind !== "absent") return hosted;
  signal.throwIfAborted();
  let region: string;
  try {
    ({ region } = await offerHosted(rt, call, leg, hosted.callSid));
  } catch (err) {
    rt.log.warn(
      { err, callSid: call.callSid, hosted: hosted.callSid },
      "cannot offer the hosted number's call again; listening for it",
    );
    return hosted;
  }
  if (region === hosted.region) return hosted;
  const moved = { ...hosted, region };
  // Followed there whether or not the new region is stored: a later resume offers it again.
  await onRegion(moved).catch((err: unknown) =>
    rt.log.warn(
      { err, callSid: call.callSid, hosted: hosted.callSid },
      "cannot store the hosted call's region",
    ),
  );
  return moved;
}

/** The actors bucket of `region`: this region's is open already; another region's is opened. */
function actorsOf(rt: HostedRuntime, region: string): Promise<KV> {
  return region === rt.region
    ? Promise.resolve(rt.stores.actors.kv)
    : new Kvm(rt.bus.nc).open(buckets.actors(region));
}

/**
 * Tells `answered` once the hosted call's stored snapshot says it answered (read, then watched), or
 * `gone` once the snapshot is deleted: the call ended (its record is stored before).
 */
async function watchAnswer(
  rt: HostedRuntime,
  hosted: HostedCallRef,
  on: { answered: () => void; gone: () => void },
): Promise<{ stop(): void }> {
  const watch = await (await actorsOf(rt, hosted.region)).watch({ key: hosted.callSid });
  void (async () => {
    for await (const e of watch) {
      if (e.operation !== "PUT") {
        on.gone();
        break;
      }
      if (e.json<{ context?: { answeredAt?: number | null } }>().context?.answeredAt != null) {
        on.answered();
        break;
      }
    }
  })().catch(() => {});
  return { stop: () => watch.stop() };
}
