// The throughput and latency benches' machine room: one nats-server with JetStream, one webhook server
// (in the bench process, answering `<Say>Hi</Say>`), and two pipelines side by side, each an edge and
// two workers in their own processes: switchboard (the real CLI) and the bare baseline.
import type { NatsConnection } from "@nats-io/transport-node";
import { type NatsServer, startNatsServer } from "../../src/dev/nats-server.js";
import { connectNats } from "../../src/protocol/connect.js";
import { type BenchProcess, spawnBench, spawnCli } from "./processes.js";
import { BARE, provisionAccount, provisionBare, provisionNumber } from "./provision.js";
import { startWebhookServer, type WebhookServer } from "./webhook-server.js";

export const SAY_HI = "<Response><Say>Hi</Say></Response>";

export interface Pipeline {
  name: "switchboard" | "bare";
  /** The number `load` calls: configured and routed for this pipeline. */
  number: string;
  edge: string;
}

export interface Stack {
  nats: NatsServer;
  /** The bench's own connection (load runs on it). */
  nc: NatsConnection;
  webhook: WebhookServer;
  switchboard: Pipeline;
  bare: Pipeline;
  processes: BenchProcess[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Node flags for every pipeline process, e.g. `--cpu-prof --cpu-prof-dir=…`. */
  nodeArgs?: string[];
  workers?: number;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const nats = await startNatsServer({ port: -1 });
  // The load is placed as `switchboard load` places it, on a connection made the way the CLI makes
  // its own (connectNats: no Error built per request, one socket write per turn). A plain connection
  // spent 18 % of the bench process's CPU building Errors for requests that were answered, on the
  // same two cores as the pipelines it measures (issue #20, twenty-first session).
  const nc = await connectNats(nats.url, "bench");
  const webhook = await startWebhookServer(SAY_HI);
  const account = await provisionAccount(nc);
  const switchboard: Pipeline = { name: "switchboard", number: "+15551230001", edge: "ashburn" };
  const bare: Pipeline = { name: "bare", number: "+15551230002", edge: BARE.edge };
  await provisionNumber(nc, account, switchboard.number, "us1", webhook.url);
  await provisionBare(nc, bare.number);

  const natsArg = ["--nats", nats.url];
  const spawn = { nodeArgs: opts.nodeArgs ?? [] };
  const workers = Array.from({ length: opts.workers ?? 2 }, (_, i) => i + 1);
  const processes = [
    spawnCli("switchboard edge", ["edge", "--edge", switchboard.edge, ...natsArg], spawn),
    // The webhook server is on loopback, which workers refuse unless allowed.
    ...workers.map((i) =>
      spawnCli(`switchboard worker #${i}`, ["region", "--region", "us1", ...natsArg], {
        ...spawn,
        env: { SWITCHBOARD_ALLOW_EGRESS: "127.0.0.0/8" },
      }),
    ),
    spawnBench("bare edge", "bare/edge.js", natsArg, spawn),
    ...workers.map((i) =>
      spawnBench(
        `bare worker #${i}`,
        "bare/worker.js",
        [...natsArg, "--url", webhook.url, "--token", account.token, "--account", account.sid],
        spawn,
      ),
    ),
  ];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await nc.close();
    await webhook.close();
    await nats.stop();
  };
  try {
    await Promise.all(processes.map((p) => p.ready()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { nats, nc, webhook, switchboard, bare, processes, stop };
}
