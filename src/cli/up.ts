// `switchboard up`: the one-command local engine. Its own nats-server with JetStream (unless given
// --nats), the edges, one worker per region, the api and a demo app, all in this process.

import { join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { ensureDefaultAccount } from "../admin/accounts.js";
import { addNumber, numbersBucket } from "../admin/numbers.js";
import { regionApiUrl } from "../api/region-from-host.js";
import { startApi } from "../api/server.js";
import { startDemoApp } from "../dev/demo-app.js";
import { startNatsServer } from "../dev/nats-server.js";
import { Edge } from "../edge/edge.js";
import { numberKey } from "../model/phone.js";
import { tuneHeapForCalls } from "../process/heap-tuning.js";
import { explainListenError, requirePortFree } from "../process/ports.js";
import { runService, type Service } from "../process/run-service.js";
import { connectNats, DEFAULT_NATS_URL } from "../protocol/connect.js";
import { RegionWorker } from "../region/worker.js";
import { openGlobalStores } from "../store/global.js";
import { provisionRegionStreams } from "../store/region.js";
import { vizPlugin } from "../visualizer/server/plugin.js";
import { WebhookClient } from "../webhook/client.js";
import { EgressPolicy } from "../webhook/egress.js";
import {
  natsOption,
  operatorToken,
  operatorTokenOption,
  parseHttpUrl,
  parseNames,
  parseNumber,
  splitList,
} from "./options.js";

export const DEMO_NUMBER = "+15005550006";
const DEMO_NAME = "switchboard demo";

interface UpOptions {
  nats?: string;
  regions: string[];
  edges: string[];
  port: number;
  data: string;
  natsPort: number;
  demo: boolean;
  allowEgress?: string;
  operatorToken?: string;
  apiUrl?: string;
}

export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("run everything locally: nats-server, edges, regions, the api and a demo app")
    .addOption(natsOption().default(undefined, "start its own nats-server"))
    .addOption(new Option("--regions <list>", "regions to run").argParser(parseNames).default(["us1", "ie1"]))
    .addOption(
      new Option("--edges <list>", "edges to run").argParser(parseNames).default(["ashburn", "dublin"]),
    )
    .addOption(
      new Option("--port <port>", "the api's HTTP port").argParser(parseNumber(0, 65535)).default(8080),
    )
    .addOption(
      new Option(
        "--api-url <url>",
        "the api's address as your apps reach it, for RecordingUrl and media_url (default: where it listens)",
      )
        .argParser(parseHttpUrl)
        .env("SWITCHBOARD_API_URL"),
    )
    .addOption(
      new Option("--data <dir>", "where its nats-server keeps JetStream data").default(".switchboard"),
    )
    .addOption(
      new Option("--nats-port <port>", "client port of its own nats-server (-1: any free port)")
        .argParser(parseNumber(-1, 65535))
        .default(4222),
    )
    .option("--no-demo", "do not start the demo app and its number")
    .addOption(
      new Option(
        "--allow-egress <cidrs>",
        "networks webhooks may reach besides public ones and loopback",
      ).env("SWITCHBOARD_ALLOW_EGRESS"),
    )
    .addOption(operatorTokenOption())
    .action((o: UpOptions) => runService("up", (log) => up(o, log), { component: "up" }));
}

async function up(o: UpOptions, log: Parameters<Parameters<typeof runService>[1]>[0]): Promise<Service> {
  tuneHeapForCalls(); // this process hosts the regions' calls (process/heap-tuning.ts)
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.warn({ err }, "stop failed"));
  };
  const apiFix = "stop what holds it, or pass --port N (0: any free port)";
  try {
    const operator = operatorToken(o.operatorToken);
    // Both ports are checked before anything starts, so a clash costs nothing to stop.
    await requirePortFree("127.0.0.1", o.port, "the api", apiFix);
    // Local development: webhooks on this machine (loopback) are allowed, other internal networks
    // not. One client for every region's worker, made here and closed here after them.
    const webhooks = new WebhookClient({
      egress: EgressPolicy.internalDenied(["127.0.0.0/8", "::1/128", ...splitList(o.allowEgress)]),
    });
    stops.push(() => webhooks.close());
    let url = o.nats;
    if (!url) {
      await requirePortFree(
        "127.0.0.1",
        o.natsPort,
        "its nats-server's client port",
        "stop what holds it (another `switchboard up`?), pass --nats-port N (-1: any free port), or --nats URL to use that server",
      );
      const server = await startNatsServer({
        port: o.natsPort,
        storeDir: join(resolve(o.data), "jetstream"),
        serverName: "switchboard",
      });
      stops.push(() => server.stop());
      url = server.url;
      log.info({ component: "nats-server", url, storeDir: server.storeDir }, "nats-server started");
    }
    const nc = await connectNats(url, "switchboard-up");
    stops.push(() => nc.drain());
    const global = await openGlobalStores(nc);
    const { account, created } = await ensureDefaultAccount(global, {
      sid: process.env.SWITCHBOARD_ACCOUNT_SID,
      token: process.env.SWITCHBOARD_AUTH_TOKEN,
    });
    // The api first: the workers' RecordingUrls name the address it got (any free one with --port 0).
    // The regions' streams before it, so the visualizer finds the regions when it starts.
    for (const region of o.regions) await provisionRegionStreams(nc, region);
    const api = await startApi({
      nc,
      port: o.port,
      log: log.child({ component: "api" }),
      operatorToken: operator,
      parts: [vizPlugin],
      ...(o.apiUrl && { publicUrl: o.apiUrl }),
      // Outbound calls to hosted numbers enter at the first edge `up` runs.
      ...(o.edges[0] && { outbound: { edge: o.edges[0] } }),
    }).catch((err: unknown) => explainListenError(err, o.port, "the api", apiFix));
    stops.push(() => api.close());
    for (const region of o.regions) {
      const worker = await RegionWorker.start({
        nc,
        region,
        log: log.child({ component: "region", region }),
        webhooks,
        // One api for every region: another region's URLs (RecordingUrl…) name it in their path.
        apiUrl: regionApiUrl(o.apiUrl ?? api.url, region),
      });
      stops.push(() => worker.stop());
    }
    for (const edge of o.edges) {
      const e = await Edge.start({ nc, edge, log: log.child({ component: "edge", edge }) });
      stops.push(() => e.stop());
    }
    const natsFlag = url === DEFAULT_NATS_URL ? "" : ` --nats ${url}`;
    let hint = "";
    if (o.demo) {
      const demo = await startDemoApp({ authToken: () => account.auth_token });
      stops.push(() => demo.close());
      const region = o.regions[0] ?? "us1";
      const existing = await (await numbersBucket(nc, region)).get(numberKey(DEMO_NUMBER));
      // The demo number follows the demo app's new port each time, unless someone took it over.
      if (!existing || existing.friendly_name === DEMO_NAME) {
        await addNumber(nc, global, {
          number: DEMO_NUMBER,
          region,
          voiceUrl: demo.voiceUrl,
          friendlyName: DEMO_NAME,
        });
      }
      hint = `npx switchboard call --to ${DEMO_NUMBER} --from +15551234567${natsFlag}`;
    }
    const announce = () => {
      if (created) process.stdout.write(`account ${account.sid} token ${account.auth_token}\n`);
      else
        process.stdout.write(
          `account ${account.sid} (its token: npx switchboard accounts get ${account.sid}${natsFlag})\n`,
        );
      process.stdout.write(`ready ${api.url}\n`);
      process.stdout.write(`watch calls live: ${api.url}/viz/\n`);
      // The visualizer asks for a login: the default account's, whose token the account line gives.
      process.stdout.write(`log in to it as ${account.sid} with the account's auth token (above)\n`);
      if (hint) process.stdout.write(`make a first call: ${hint}\n`);
    };
    return { stop: stopAll, announce };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
