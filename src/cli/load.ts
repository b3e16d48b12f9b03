// `switchboard load`: place N simulated calls at a steady rate, wait for each to end, and print
// throughput and latency percentiles (a progress bar on a terminal; `--json` for scripts).
import { type Command, Option } from "commander";
import { type LoadCounters, runLoad } from "../caller/load.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { action, geoOption, natsOption, parseName, parseNumber } from "./options.js";

interface LoadCliOptions {
  to: string;
  from: string;
  edge: string;
  rate: number;
  count: number;
  concurrency: number;
  timeScale: number;
  timeout: number;
  geo: Record<string, string>;
  json?: boolean;
  nats?: string;
}

export function registerLoadCommand(program: Command): void {
  program
    .command("load")
    .description("place many simulated calls at a steady rate and report throughput and latency")
    .requiredOption("--to <number>", "the called number (E.164)")
    .option("--from <number>", "the caller's number (E.164)", "+15551234567")
    .addOption(
      new Option("--rate <cps>", "calls offered per second")
        .argParser(parseNumber(0.001, 1e6))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--count <n>", "how many calls to place")
        .argParser(parseInteger(1, 10_000_000))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--concurrency <n>", "the most calls in flight at once")
        .argParser(parseInteger(1, 10_000_000))
        .default(1000),
    )
    .addOption(
      new Option("--time-scale <s>", "0 runs without waiting, 1 is real time")
        .argParser(parseNumber(0, 1))
        .default(0),
    )
    .addOption(
      new Option("--timeout <seconds>", "how long a call may take before it counts as lost")
        .argParser(parseNumber(0.1, 86_400))
        .default(60),
    )
    .addOption(
      new Option("--edge <name>", "the edge the calls enter at").argParser(parseName).default("ashburn"),
    )
    .addOption(geoOption())
    .option("--json", "print only the result, as one JSON object")
    .addOption(natsOption())
    .action(
      action(async (o: LoadCliOptions) => {
        const nc = await connectNats(natsUrl(o.nats), "switchboard-load", 5_000);
        const bar = process.stderr.isTTY ? progressBar(o.count) : undefined;
        try {
          const run = await runLoad(nc, {
            to: o.to,
            from: o.from,
            edge: o.edge,
            rate: o.rate,
            count: o.count,
            concurrency: o.concurrency,
            caller: { timeScale: o.timeScale },
            ...(Object.keys(o.geo).length > 0 && { geo: o.geo }),
            timeoutMs: o.timeout * 1000,
            ...(bar && { onProgress: bar.draw }),
          });
          bar?.clear();
          for (const [reason, n] of run.refused) process.stderr.write(`${n} offers refused: ${reason}\n`);
          const r = run.result;
          if (o.json) {
            process.stdout.write(`${JSON.stringify(r)}\n`);
          } else {
            const l = r.latencyMs;
            process.stdout.write(
              `offered ${r.offered}  completed ${r.completed}  failed ${r.failed}  lost ${r.lost}\n` +
                `throughput ${r.callsPerSecond} calls/s\n` +
                `latency (offer → record stored) ms  p50 ${l.p50}  p99 ${l.p99}  max ${l.max}\n`,
            );
          }
          // Lost calls mean the engine dropped work, and a run whose every offer was refused placed
          // nothing: scripts should notice both (calls that ran and failed are the app's business).
          const refused = [...run.refused.values()].reduce((a, b) => a + b, 0);
          if (r.lost > 0 || (r.offered > 0 && refused === r.offered)) process.exitCode = 1;
        } finally {
          bar?.clear();
          await nc.close();
        }
      }),
    );
}

function parseInteger(min: number, max: number) {
  const parse = parseNumber(min, max);
  return (value: string): number => Math.floor(parse(value));
}

/** One line on stderr, redrawn in place: offered and ended so far, and the rate of ends. */
function progressBar(total: number) {
  const width = 30;
  const started = performance.now();
  let shown = false;
  return {
    draw: (c: Readonly<LoadCounters>) => {
      const ended = c.completed + c.failed + c.lost;
      const filled = Math.round((ended / total) * width);
      const rate = ended / ((performance.now() - started) / 1000);
      const line =
        `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${ended}/${total} ended, ` +
        `${c.inFlight} in flight, ${c.failed} failed, ${c.lost} lost, ${rate.toFixed(0)} calls/s`;
      process.stderr.write(`\r${line}\x1b[K`);
      shown = true;
    },
    clear: () => {
      if (shown) process.stderr.write("\r\x1b[K");
      shown = false;
    },
  };
}
