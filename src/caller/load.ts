// Places many simulated calls at a steady rate and follows each to its stored Call resource: what
// `switchboard load` and the benches run. Calls end where their record is written, so load watches
// the calls bucket's own subjects (`$KV.sb_calls_<region>.>`) with one core subscription per
// region: one message per call, carrying the record itself, instead of two subscriptions per call.
import { type NatsConnection, TimeoutError } from "@nats-io/transport-node";
import * as hdr from "hdr-histogram-js";
import type { CallStatus } from "../model/records.js";
import { newSid } from "../model/sid.js";
import type { CallerScript } from "../protocol/offer.js";
import { offerCall } from "../protocol/offer.js";
import { type AwaitedCall, inRegion, RecordWatch, routedRegion } from "./record-watch.js";

export interface LoadOptions {
  to: string;
  from: string;
  edge: string;
  /** Calls offered per second. */
  rate: number;
  count: number;
  /** The most calls in flight (offered, not ended) at once; the rate waits for a free slot. */
  concurrency?: number;
  /** The caller's script for every call; default `{timeScale: 0}`. */
  caller?: CallerScript;
  /** Twilio's geographic parameters for every call's webhook (FromCity, ToCountry, …). */
  geo?: Record<string, string>;
  /** Real milliseconds a call may take from its offer to its record before it counts as lost. */
  timeoutMs?: number;
  prefix?: string;
  /** Called with the counters at most every `progressMs` (default 100) while the run lasts. */
  onProgress?: (c: Readonly<LoadCounters>) => void;
  progressMs?: number;
  /** Per-call hooks for benches; times are `performance.now()`. */
  onOffer?: (callSid: string, at: number) => void;
  onEnd?: (callSid: string, status: CallStatus, at: number) => void;
}

export interface LoadCounters {
  offered: number;
  completed: number;
  failed: number;
  lost: number;
  /** Offered and not yet ended, refused or lost. */
  inFlight: number;
}

/** `switchboard load --json` prints exactly this (DESIGN.md §2). */
export interface LoadResult {
  offered: number;
  completed: number;
  failed: number;
  lost: number;
  callsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
}

export interface LoadRun {
  result: LoadResult;
  /** Offers the edge refused, by error message (they count as failed: no call was ever made). */
  refused: Map<string, number>;
  /** Offer → record seen, in microseconds. */
  latencyUs: hdr.Histogram;
}

interface Pending extends AwaitedCall {
  offeredAt: number;
}

/** Places `count` calls at `rate` and waits for each one's terminal record (or gives up on it). */
export async function runLoad(nc: NatsConnection, opts: LoadOptions): Promise<LoadRun> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const counters: LoadCounters = { offered: 0, completed: 0, failed: 0, lost: 0, inFlight: 0 };
  const pending = new Map<string, Pending>();
  const lost = new Map<string, Pending>();
  const refused = new Map<string, number>();
  const latencyUs = hdr.build({ numberOfSignificantValueDigits: 3 });
  let firstOffer = Number.NaN;
  let lastEnd = Number.NaN;
  const waker = new Waker();

  const finish = (sid: string, status: CallStatus, at: number) => {
    const call = pending.get(sid) ?? lost.get(sid);
    if (!call) return;
    if (pending.delete(sid)) counters.inFlight--;
    else if (lost.delete(sid)) counters.lost--;
    if (status === "completed") counters.completed++;
    else counters.failed++;
    latencyUs.recordValue(Math.max(1, Math.round((at - call.offeredAt) * 1000)));
    lastEnd = Number.isNaN(lastEnd) ? at : Math.max(lastEnd, at);
    opts.onEnd?.(sid, status, at);
    waker.wake();
  };
  const records = new RecordWatch(nc, finish);
  await records.watch(await routedRegion(nc, opts.to));

  const offerOne = () => {
    const callSid = newSid("CA");
    const call: Pending = { offeredAt: performance.now(), region: undefined };
    if (Number.isNaN(firstOffer)) firstOffer = call.offeredAt;
    pending.set(callSid, call);
    counters.offered++;
    counters.inFlight++;
    opts.onOffer?.(callSid, call.offeredAt);
    const offer = {
      to: opts.to,
      from: opts.from,
      callSid,
      caller: opts.caller ?? { timeScale: 0 },
      ...(opts.geo && { geo: opts.geo }),
    };
    offerCall(nc, opts.edge, offer, { prefix: opts.prefix, timeoutMs: Math.min(timeoutMs, 10_000) }).then(
      (reply) => {
        call.region = reply.region;
        // A region the routing table did not name: watch it, then catch a record written before that.
        if (!records.has(reply.region)) {
          const region = reply.region;
          // The run may have ended (every record seen) before this reply: then there is nothing to do.
          records
            .watch(region)
            .then(() => records.recheck(inRegion(pending, region)))
            .catch(() => {});
        }
      },
      (err: unknown) => {
        // A timed-out offer may still have been stored: its record decides. Anything else was refused.
        if (err instanceof TimeoutError || (err as Error).cause instanceof TimeoutError) return;
        if (!pending.delete(callSid)) return;
        counters.inFlight--;
        counters.failed++;
        const reason = (err as Error).message.split("\n")[0] ?? String(err);
        refused.set(reason, (refused.get(reason) ?? 0) + 1);
        waker.wake();
      },
    );
  };

  // Calls whose record is overdue count as lost and free their slot; a late record still counts.
  const giveUp = () => {
    const now = performance.now();
    for (const [sid, call] of pending) {
      if (now - call.offeredAt < timeoutMs) continue;
      pending.delete(sid);
      lost.set(sid, call);
      counters.inFlight--;
      counters.lost++;
      waker.wake();
    }
  };
  const sweeper = setInterval(giveUp, Math.min(250, timeoutMs / 4));
  const progress = opts.onProgress
    ? setInterval(() => opts.onProgress?.(counters), opts.progressMs ?? 100)
    : undefined;
  try {
    await pace(opts, counters, offerOne, waker);
    while (pending.size > 0) await waker.wait(1_000);
    // Before calling a call lost, read its record: its message may have been missed.
    if (lost.size > 0) await records.recheck(lost);
  } finally {
    clearInterval(sweeper);
    clearInterval(progress);
    records.close();
  }
  opts.onProgress?.(counters);
  const ended = counters.completed + counters.failed - sum(refused.values());
  const seconds = (lastEnd - firstOffer) / 1000;
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    result: {
      offered: counters.offered,
      completed: counters.completed,
      failed: counters.failed,
      lost: counters.lost,
      callsPerSecond: ended > 0 && seconds > 0 ? Math.round((ended / seconds) * 10) / 10 : 0,
      latencyMs: {
        p50: ms(latencyUs.getValueAtPercentile(50)),
        p99: ms(latencyUs.getValueAtPercentile(99)),
        max: ms(latencyUs.getValueAtPercentile(100)),
      },
    },
    refused,
    latencyUs,
  };
}

/** Lets a paced loop sleep until its next due time or until something frees a slot. */
export class Waker {
  #wake: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, ms));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    this.#wake?.();
  }
}

/**
 * Calls `offerOne` `plan.count` times, the k-th when k / rate seconds have passed, never with more
 * than `plan.concurrency` in flight. A stall (no free slot) is caught up afterwards: the schedule
 * is fixed at the start, so a slow engine cannot hide its latency by slowing the offers down.
 */
export async function pace(
  plan: { count: number; rate: number; concurrency?: number | undefined },
  counters: { readonly offered: number; readonly inFlight: number },
  offerOne: () => void,
  waker: Waker,
): Promise<void> {
  const concurrency = plan.concurrency ?? Number.POSITIVE_INFINITY;
  const start = performance.now();
  while (counters.offered < plan.count) {
    const due = Math.min(plan.count, Math.floor(((performance.now() - start) * plan.rate) / 1000) + 1);
    while (counters.offered < due && counters.inFlight < concurrency) offerOne();
    if (counters.offered >= plan.count) return;
    const untilNext = (counters.offered * 1000) / plan.rate - (performance.now() - start);
    await waker.wait(counters.inFlight >= concurrency ? 1_000 : untilNext);
  }
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}
