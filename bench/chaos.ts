// The long chaos run for `npm run bench` (the short one runs in `npm test`): a minute of steady load
// on three worker processes, one SIGKILLed every 5 s and replaced, one stopped (SIGSTOP) for 20 s
// and woken, nats-server restarted half-way, one call in twenty answered with a hostile document.
// Goals: no call lost, none run twice, no healthy call replayed, resume p99 under 3 s.
import { type ChaosReport, runChaos } from "./chaos-harness.js";

export async function chaosLong(): Promise<ChaosReport> {
  return runChaos({
    loadMs: 60_000,
    rate: 8,
    workers: 3,
    killEveryMs: 5_000,
    restartNatsAtMs: 30_000,
    stall: { atMs: 8_000, forMs: 20_000 },
    hostileEvery: 20,
    settleMs: 120_000,
  });
}

export function describeChaos(r: ChaosReport): string {
  const ok = (pass: boolean) => (pass ? "meets goal" : "MISSES goal");
  return [
    `chaos (60 s at 8 calls/s on 3 workers, one SIGKILLed every 5 s, one SIGSTOPped for 20 s, nats-server restarted once, 1 call in 20 hostile)`,
    `  offered ${r.offered}, completed ${r.completed}, failed ${r.failed}, hostile ${r.hostile}`,
    `  lost ${r.lost} (goal 0: ${ok(r.lost === 0)}), duplicated ${r.duplicated} (goal 0: ${ok(r.duplicated === 0)}), callbacks retried with their token ${r.callbackRetries}`,
    `  ran twice ${r.ranTwice} (goal 0: ${ok(r.ranTwice === 0)}), healthy calls replayed ${r.replayedHealthy} (goal 0: ${ok(r.replayedHealthy === 0)})`,
    `  kills ${r.kills}, stalls ${r.stalls}, calls resumed after a kill ${r.resumed}`,
    `  resume p50 ${r.resumeMs.p50} ms, p99 ${r.resumeMs.p99} ms, max ${r.resumeMs.max} ms (goal p99 < 3000: ${ok(r.resumeMs.p99 < 3000)})`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await chaosLong();
  process.stdout.write(`${describeChaos(report)}\n${JSON.stringify(report)}\n`);
}
