// The long chaos run for `npm run bench` (the short one runs in `npm test`): a minute of steady load
// on two worker processes, one SIGKILLed every 5 s and replaced, nats-server restarted half-way.
// Goals: no call lost, none duplicated, resume p99 under 3 s.
import { type ChaosReport, runChaos } from "./chaos-harness.js";

export async function chaosLong(): Promise<ChaosReport> {
  return runChaos({
    loadMs: 60_000,
    rate: 8,
    workers: 2,
    killEveryMs: 5_000,
    restartNatsAtMs: 30_000,
    settleMs: 120_000,
  });
}

export function describeChaos(r: ChaosReport): string {
  const ok = (pass: boolean) => (pass ? "meets goal" : "MISSES goal");
  return [
    `chaos (60 s at 8 calls/s, a worker SIGKILLed every 5 s, nats-server restarted once)`,
    `  offered ${r.offered}, completed ${r.completed}, failed ${r.failed}`,
    `  lost ${r.lost} (goal 0: ${ok(r.lost === 0)}), duplicated ${r.duplicated} (goal 0: ${ok(r.duplicated === 0)})`,
    `  kills ${r.kills}, calls resumed ${r.resumed}`,
    `  resume p50 ${r.resumeMs.p50} ms, p99 ${r.resumeMs.p99} ms, max ${r.resumeMs.max} ms (goal p99 < 3000: ${ok(r.resumeMs.p99 < 3000)})`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await chaosLong();
  process.stdout.write(`${describeChaos(report)}\n${JSON.stringify(report)}\n`);
}
