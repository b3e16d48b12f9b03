// Concurrency: N live calls parked in `<Pause length="3600">` at time-scale 1 in ONE worker — the
// real `switchboard region` in its own process, run with --expose-gc and the probe preloaded — and
// what each costs: heap and RSS growth after a full GC, divided by N, and the event loop's delay
// while the calls arrive and while they are parked. Beside it, the same figures for N bare XState
// actors parked on a timer (the least one actor per call can cost). No call may be lost: every
// offer is accepted, every call has its snapshot stored, and none has ended.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Waker } from "../src/caller/load.js";
import { startNatsServer } from "../src/dev/nats-server.js";
import { SERVICE_V8_FLAGS } from "../src/process/service-flags.js";
import { tiedCommand } from "../src/process/tied-spawn.js";
import { decode } from "../src/protocol/codec.js";
import { buckets, subjects } from "../src/protocol/subjects.js";
import type { WorkerStats } from "../src/protocol/worker-stats.js";
import type { LoopReport, MemoryReport } from "./concurrency/probe.js";
import { type Probe, probeOf } from "./concurrency/probe-client.js";
import { offerCalls } from "./lib/offer-calls.js";
import { spawnCli } from "./lib/processes.js";
import { provisionAccount, provisionNumber } from "./lib/provision.js";
import { startWebhookServer } from "./lib/webhook-server.js";

export interface ConcurrencyOptions {
  calls: number;
  /** Offers per second while filling the worker. */
  rate: number;
  /** How long the parked calls are watched for loop delay. */
  parkedSeconds: number;
  /** Bound on filling the worker. */
  fillTimeoutMs: number;
}

export interface Parked {
  calls: number;
  heapBytesPerCall: number;
  rssBytesPerCall: number;
  loopWhileFilling: LoopReport;
  loopWhileParked: LoopReport;
}

export interface ConcurrencyResult {
  switchboard: Parked & {
    live: number;
    ended: number;
    accepted: number;
    lost: number;
    webhookRequests: number;
    fillSeconds: number;
    /** The worker's live calls by top-level state when parked. */
    parkedInState: Record<string, number>;
  };
  bareActors: Parked;
  /** The call machine parked with instant in-process fakes for every effect. */
  machineOnly: Parked;
  options: ConcurrencyOptions;
}

const NUMBER = "+15551230003";
const SETTLE_MS = 2_000;
const BACKLOG = 1_000;
const PROBE = fileURLToPath(new URL("./concurrency/probe.js", import.meta.url));

export async function measureConcurrency(opts: ConcurrencyOptions): Promise<ConcurrencyResult> {
  const bareActors = await measureInChild("bare-actors.js", opts);
  const machineOnly = await measureInChild("machine-actors.js", opts);
  const nats = await startNatsServer({ port: -1 });
  const nc = await connect({ servers: nats.url });
  const webhook = await startWebhookServer('<Response><Pause length="3600"/></Response>');
  const natsArg = ["--nats", nats.url];
  const edge = spawnCli("edge", ["edge", "--edge", "ashburn", ...natsArg]);
  const worker = spawnCli(
    "worker",
    ["region", "--region", "us1", "--concurrency", String(opts.calls + 1_000), ...natsArg],
    {
      nodeArgs: [
        "--expose-gc",
        // What bin/switchboard.js starts a worker with; it cannot here: the probe's IPC channel
        // would not survive its exec (src/process/service-flags.ts).
        ...SERVICE_V8_FLAGS,
        "--import",
        PROBE,
        ...(process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []),
      ],
      env: { SWITCHBOARD_ALLOW_EGRESS: "127.0.0.0/8" },
      ipc: true,
    },
  );
  try {
    await provisionNumber(nc, await provisionAccount(nc), NUMBER, "us1", webhook.url);
    await Promise.all([edge.ready(), worker.ready()]);
    const probe = probeOf(worker.child);
    const stats = watchStats(nc);
    const before = await probe.memory();
    await probe.loopReset();
    const started = performance.now();
    // Each call requests its webhook once it has started: offers run at most BACKLOG calls ahead of
    // that, so no call waits in the stream long enough to expire (the worker's --max-wait).
    const waker = new Waker();
    webhook.onArrival = () => waker.wake();
    const { accepted } = await offerCalls(nc, {
      to: NUMBER,
      from: "+15557654321",
      edge: "ashburn",
      count: opts.calls,
      rate: opts.rate,
      concurrency: BACKLOG,
      taken: () => webhook.requests,
      waker,
      caller: { timeScale: 1 },
    });
    await untilParked(stats, opts.calls, () => webhook.requests, started + opts.fillTimeoutMs);
    const fillSeconds = (performance.now() - started) / 1000;
    const parked = await watchParked(probe, before, opts);
    if (process.env.BENCH_HEAP) process.stderr.write(`heap snapshot: ${await probe.heapSnapshot()}\n`);
    const ended = (await (await new Kvm(nc).open(buckets.calls("us1"))).status()).values;
    await stats.fresh();
    const live = stats.latest?.liveCalls ?? 0;
    stats.stop();
    return {
      switchboard: {
        ...parked,
        live,
        ended,
        accepted,
        lost: opts.calls - live - ended,
        webhookRequests: webhook.requests,
        fillSeconds: Math.round(fillSeconds * 10) / 10,
        parkedInState: stats.latest?.byState ?? {},
      },
      bareActors,
      machineOnly,
      options: opts,
    };
  } finally {
    if (process.env.BENCH_DEBUG) process.stderr.write(worker.output());
    // 100,000 calls would take the graceful drain's full wait: this worker's calls are disposable.
    if (process.env.BENCH_PROF) await worker.stop(60_000);
    await worker.kill();
    await edge.stop();
    await nc.close();
    await webhook.close();
    await nats.stop();
  }
}

/** The worker's own account of its calls (`sb.region.us1.stats.*`, every few seconds). */
function watchStats(nc: NatsConnection) {
  let latest: WorkerStats | undefined;
  let seen = 0;
  const sub = nc.subscribe(subjects().workerStats("us1", "*"), {
    callback: (err, msg) => {
      if (err) return;
      latest = decode(msg.data) as WorkerStats;
      seen++;
    },
  });
  return {
    get latest() {
      return latest;
    },
    /** Resolves after the next report (bounded by two report intervals). */
    async fresh(): Promise<void> {
      const n = seen;
      for (let i = 0; i < 120 && seen === n; i++) await sleep(100);
    },
    stop: () => sub.unsubscribe(),
  };
}

/**
 * Waits until the worker reports `calls` live calls, every one in executing-twiml (its Pause) and
 * every webhook requested; then a little longer, so that "parked" measures parked calls and not
 * the tail of the fill.
 */
async function untilParked(
  stats: ReturnType<typeof watchStats>,
  calls: number,
  webhookRequests: () => number,
  deadline: number,
): Promise<void> {
  while (performance.now() < deadline) {
    const s = stats.latest;
    if (
      s &&
      s.liveCalls >= calls &&
      (s.byState["executing-twiml"] ?? 0) >= calls &&
      webhookRequests() >= calls
    )
      break;
    await sleep(250);
  }
  await sleep(SETTLE_MS);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function watchParked(probe: Probe, before: MemoryReport, opts: ConcurrencyOptions) {
  const loopWhileFilling = await probe.loop();
  await probe.loopReset();
  await sleep(opts.parkedSeconds * 1000);
  const loopWhileParked = await probe.loop();
  const after = await probe.memory();
  return {
    calls: opts.calls,
    heapBytesPerCall: Math.round((after.heapUsed - before.heapUsed) / opts.calls),
    rssBytesPerCall: Math.round((after.rss - before.rss) / opts.calls),
    loopWhileFilling,
    loopWhileParked,
  };
}

/** Parks `opts.calls` actors in a child process (bare-actors.js or machine-actors.js) and measures it. */
async function measureInChild(script: string, opts: ConcurrencyOptions): Promise<Parked> {
  // Tied to the bench, as its other processes are (bench/lib/processes.ts): fork runs
  // `execPath ...execArgv script`, so setpriv goes first and node after it.
  const [execPath, execArgv] = tiedCommand(process.execPath, ["--expose-gc"]);
  const child = fork(fileURLToPath(new URL(`./concurrency/${script}`, import.meta.url)), [], {
    execPath,
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = (type: string) =>
    new Promise<void>((resolve) => {
      const on = (m: { type?: string }) => {
        if (m?.type !== type) return;
        child.off("message", on);
        resolve();
      };
      child.on("message", on);
    });
  try {
    await next("ready");
    const probe = probeOf(child);
    const before = await probe.memory();
    await probe.loopReset();
    const parked = next("parked");
    child.send({ type: "park", count: opts.calls });
    await parked;
    return await watchParked(probe, before, opts);
  } finally {
    child.kill("SIGKILL");
  }
}
