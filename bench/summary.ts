// The bench's summary table: each figure of issue #9 with its baseline and goal, and whether the goal
// was met. Kept apart from run.ts so the goals live in one place.
import type { ConcurrencyResult } from "./concurrency.js";
import type { LatencyResult, Percentiles } from "./latency.js";
import type { MessageCount } from "./lib/message-count.js";
import type { Row } from "./lib/report.js";
import type { ThroughputResult } from "./throughput.js";

export const GOALS = {
  // Issue #9 asked 0.70; issue #20, measuring what the design adds per call, set the step at 0.50.
  throughputRatio: 0.5,
  webhookP99Ms: 10,
  bytesPerCall: 10 * 1024,
  loopDelayP99Ms: 20,
  routingP99Ms: 1000,
} as const;

import type { ChaosReport } from "./chaos-harness.js";

export interface BenchResults {
  throughput: ThroughputResult;
  messages: { switchboard: MessageCount; bare: MessageCount };
  latency: LatencyResult;
  concurrency: ConcurrencyResult;
  routing: { p99Ms?: number } | undefined;
  chaos?: ChaosReport;
}

const pct = (p: Percentiles) => `${p.p50} / ${p.p99} / ${p.max}`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (x: number | string) => `${x} ms`;

export function summaryRows({
  throughput: t,
  messages,
  latency: l,
  concurrency: c,
  routing,
  chaos,
}: BenchResults): Row[] {
  const sb = c.switchboard;
  const bare = c.bareActors;
  const machine = c.machineOnly;
  // "workers 2.09 + nats 0.54 + edge 0.1 + bench 0.17 = 2.9"
  const cpu = (r: Record<string, number>) => {
    const parts = Object.entries(r).map(([role, v]) => `${role.split(" ")[0]?.replace("-server", "")} ${v}`);
    const total = Object.values(r).reduce((a, b) => a + b, 0);
    return `${parts.join(" + ")} = ${Math.round(total * 100) / 100}`;
  };
  return [
    {
      figure: "throughput, calls/s (median of rounds)",
      value: `${t.switchboard.median}`,
      baseline: `${t.bare.median} bare pipeline`,
      goal: `≥ ${GOALS.throughputRatio} × bare`,
    },
    {
      figure: "  switchboard / bare",
      value: `${t.ratio}`,
      baseline: "",
      goal: `≥ ${GOALS.throughputRatio}`,
      met: t.ratio >= GOALS.throughputRatio && t.switchboard.allCompleted,
    },
    {
      figure: "  CPU ms per call by process",
      value: cpu(t.switchboard.cpuMsPerCall),
      baseline: cpu(t.bare.cpuMsPerCall),
      goal: "",
    },
    {
      figure: "  wake-ups per call by process",
      value: cpu(t.switchboard.wakeupsPerCall),
      baseline: cpu(t.bare.wakeupsPerCall),
      goal: "",
    },
    {
      figure: "  NATS messages per call",
      value: `${messages.switchboard.perCall}`,
      baseline: `${messages.bare.perCall}`,
      goal: "",
    },
    {
      figure: `latency at ${l.rate} calls/s: offer → webhook p50/p99/max`,
      value: ms(pct(l.switchboard.offerToWebhook)),
      baseline: ms(pct(l.bare.offerToWebhook)),
      goal: `p99 < ${GOALS.webhookP99Ms} ms`,
      met: l.switchboard.offerToWebhook.p99 < GOALS.webhookP99Ms,
    },
    {
      figure: "  CPU ms per call by process, at that rate",
      value: `${cpu(l.switchboard.cpuMsPerCall)}; ${l.switchboard.coresBusy} cores busy`,
      baseline: `${cpu(l.bare.cpuMsPerCall)}; ${l.bare.coresBusy} cores busy`,
      goal: "",
    },
    {
      figure: "  wake-ups per call by process, at that rate",
      value: cpu(l.switchboard.wakeupsPerCall),
      baseline: cpu(l.bare.wakeupsPerCall),
      goal: "",
    },
    {
      figure: "  offer → record stored p50/p99/max",
      value: ms(pct(l.switchboard.offerToRecord)),
      baseline: ms(pct(l.bare.offerToRecord)),
      goal: "",
    },
    {
      figure: `${sb.calls.toLocaleString("en")} parked calls, one worker: heap per call`,
      value: kb(sb.heapBytesPerCall),
      baseline: `${kb(bare.heapBytesPerCall)} bare actor; ${kb(machine.heapBytesPerCall)} call machine, fake effects`,
      goal: `< ${kb(GOALS.bytesPerCall)}`,
      met: sb.heapBytesPerCall < GOALS.bytesPerCall,
    },
    {
      figure: "  RSS per call",
      value: kb(sb.rssBytesPerCall),
      baseline: `${kb(bare.rssBytesPerCall)}; ${kb(machine.rssBytesPerCall)}`,
      goal: `< ${kb(GOALS.bytesPerCall)}`,
      met: sb.rssBytesPerCall < GOALS.bytesPerCall,
    },
    {
      figure: "  event-loop delay p99, parked",
      value: ms(sb.loopWhileParked.p99Ms),
      baseline: `${ms(bare.loopWhileParked.p99Ms)}; ${ms(machine.loopWhileParked.p99Ms)}`,
      goal: `< ${GOALS.loopDelayP99Ms} ms`,
      met: sb.loopWhileParked.p99Ms < GOALS.loopDelayP99Ms,
    },
    {
      figure: `  event-loop delay p99, while ${sb.calls.toLocaleString("en")} calls arrive`,
      value: ms(sb.loopWhileFilling.p99Ms),
      baseline: `${ms(bare.loopWhileFilling.p99Ms)}; ${ms(machine.loopWhileFilling.p99Ms)}`,
      goal: `< ${GOALS.loopDelayP99Ms} ms`,
      met: sb.loopWhileFilling.p99Ms < GOALS.loopDelayP99Ms,
    },
    {
      figure: "  calls lost (offered − live − ended)",
      value: `${sb.lost} (${sb.live} live, ${sb.ended} ended, filled in ${sb.fillSeconds} s)`,
      baseline: "",
      goal: "0, none ended",
      met: sb.lost === 0 && sb.ended === 0,
    },
    routing?.p99Ms !== undefined
      ? {
          figure: "routing propagation p99, every edge",
          value: ms(routing.p99Ms),
          baseline: "",
          goal: `< ${GOALS.routingP99Ms} ms (issue #5)`,
          met: routing.p99Ms < GOALS.routingP99Ms,
        }
      : {
          figure: "routing propagation p99",
          value: "not measured here yet",
          baseline: "",
          goal: "issue #5",
        },
    chaos
      ? {
          figure:
            "resume after crash p99 (chaos: kills, a 20 s stall, a nats-server restart, hostile documents)",
          value: `${chaos.resumeMs.p99} ms; lost ${chaos.lost}, duplicated ${chaos.duplicated}, ran twice ${chaos.ranTwice}, healthy replayed ${chaos.replayedHealthy} of ${chaos.offered}`,
          baseline: "",
          goal: "p99 < 3000 ms, none lost, duplicated, run twice or replayed while healthy (issues #8, #16)",
          met:
            chaos.resumeMs.p99 < 3000 &&
            chaos.lost === 0 &&
            chaos.duplicated === 0 &&
            chaos.ranTwice === 0 &&
            chaos.replayedHealthy === 0,
        }
      : { figure: "resume after crash p99", value: "not measured here yet", baseline: "", goal: "issue #8" },
  ];
}
