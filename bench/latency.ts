// Latency at a steady rate (half the measured maximum): offer → webhook request received by the
// app, and offer → record stored (seen on the calls bucket's subject), p50/p99/max in hdr-histograms,
// for switchboard and, at the same rate, for the bare pipeline. Several short runs, alternating, and
// the median of each percentile: on 2 shared cores one stall of the machine (100 ms is common) would
// otherwise be the p99 of a whole run. Each run also says what its processes' CPU was: at a steady
// rate each message wakes its process on its own, so a call costs more than in the throughput phase,
// and how busy the cores were is what the tail follows.
import * as hdr from "hdr-histogram-js";
import { runLoad } from "../src/caller/load.js";
import { cpuMeter, wakeupMeter } from "./lib/cpu.js";
import type { Pipeline, Stack } from "./lib/stack.js";
import { perCallByRole, rolePids, round } from "./throughput.js";

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface PipelineLatency {
  /** Median over the runs of each percentile. */
  offerToWebhook: Percentiles;
  offerToRecord: Percentiles;
  completed: number;
  offered: number;
  /** Median over the runs: CPU ms per call by role, and the cores the pipeline kept busy (of the machine's). */
  cpuMsPerCall: Record<string, number>;
  /** Median over the runs: wake-ups per call by role (bench/lib/cpu.ts wakeups()). */
  wakeupsPerCall: Record<string, number>;
  coresBusy: number;
  runs: { offerToWebhook: Percentiles; offerToRecord: Percentiles; coresBusy: number }[];
}

export interface LatencyResult {
  /** Calls offered per second (both pipelines). */
  rate: number;
  /** Seconds per run. */
  seconds: number;
  switchboard: PipelineLatency;
  bare: PipelineLatency;
}

export async function measureLatency(
  stack: Stack,
  rate: number,
  seconds: number,
  runs = 3,
): Promise<LatencyResult> {
  const count = Math.max(200, Math.round(rate * seconds));
  const results: Record<Pipeline["name"], Run[]> = { switchboard: [], bare: [] };
  for (let i = 0; i < runs; i++) {
    for (const p of i % 2 === 0 ? [stack.bare, stack.switchboard] : [stack.switchboard, stack.bare]) {
      results[p.name].push(await atRate(stack, p, rate, count));
    }
  }
  return { rate, seconds, switchboard: combine(results.switchboard), bare: combine(results.bare) };
}

interface Run {
  offerToWebhook: Percentiles;
  offerToRecord: Percentiles;
  completed: number;
  offered: number;
  cpuMsPerCall: Record<string, number>;
  wakeupsPerCall: Record<string, number>;
  coresBusy: number;
}

function combine(runs: Run[]): PipelineLatency {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const of = (pick: (r: Run) => Percentiles): Percentiles => ({
    p50: med(runs.map((r) => pick(r).p50)),
    p99: med(runs.map((r) => pick(r).p99)),
    max: med(runs.map((r) => pick(r).max)),
    count: runs.reduce((n, r) => n + pick(r).count, 0),
  });
  return {
    offerToWebhook: of((r) => r.offerToWebhook),
    offerToRecord: of((r) => r.offerToRecord),
    completed: runs.reduce((n, r) => n + r.completed, 0),
    offered: runs.reduce((n, r) => n + r.offered, 0),
    cpuMsPerCall: Object.fromEntries(
      Object.keys(runs[0]?.cpuMsPerCall ?? {}).map((role) => [
        role,
        round(med(runs.map((r) => r.cpuMsPerCall[role] ?? Number.NaN)), 3),
      ]),
    ),
    wakeupsPerCall: Object.fromEntries(
      Object.keys(runs[0]?.wakeupsPerCall ?? {}).map((role) => [
        role,
        round(med(runs.map((r) => r.wakeupsPerCall[role] ?? Number.NaN)), 2),
      ]),
    ),
    coresBusy: round(med(runs.map((r) => r.coresBusy)), 2),
    runs: runs.map(({ offerToWebhook, offerToRecord, coresBusy }) => ({
      offerToWebhook,
      offerToRecord,
      coresBusy,
    })),
  };
}

async function atRate(stack: Stack, p: Pipeline, rate: number, count: number): Promise<Run> {
  const offers = new Map<string, number>();
  const toWebhook = histogram();
  const toRecord = histogram();
  const us = (ms: number) => Math.max(1, Math.round(ms * 1000));
  stack.webhook.onRequest = (callSid, at) => {
    const offered = offers.get(callSid);
    if (offered !== undefined) toWebhook.recordValue(us(at - offered));
  };
  const pids = rolePids(stack, p);
  const meter = cpuMeter(pids);
  const wakes = wakeupMeter(pids);
  const started = performance.now();
  try {
    const run = await runLoad(stack.nc, {
      to: p.number,
      from: "+15557654321",
      edge: p.edge,
      rate,
      count,
      // Open loop: the schedule, not the engine, decides when calls arrive.
      concurrency: Number.POSITIVE_INFINITY,
      caller: { timeScale: 0 },
      timeoutMs: 30_000,
      onOffer: (callSid, at) => offers.set(callSid, at),
      onEnd: (callSid, _status, at) => {
        const offered = offers.get(callSid);
        if (offered !== undefined) toRecord.recordValue(us(at - offered));
        offers.delete(callSid);
      },
    });
    const used = meter();
    const cpuMs = Object.values(used).reduce((a, b) => a + b, 0);
    return {
      offerToWebhook: percentiles(toWebhook),
      offerToRecord: percentiles(toRecord),
      completed: run.result.completed,
      offered: run.result.offered,
      cpuMsPerCall: perCallByRole(used, count),
      wakeupsPerCall: perCallByRole(wakes(), count),
      coresBusy: cpuMs / (performance.now() - started),
    };
  } finally {
    stack.webhook.onRequest = undefined;
  }
}

function histogram(): hdr.Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3 });
}

function percentiles(h: hdr.Histogram): Percentiles {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.getValueAtPercentile(100)),
    count: h.totalCount,
  };
}
