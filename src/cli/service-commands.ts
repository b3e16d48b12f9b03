// The long-running processes: `switchboard edge`, `switchboard region`, `switchboard api`.
import { type Command, Option } from "commander";
import { DEFAULT_OUTBOUND_EDGE, startApi } from "../api/server.js";
import { Edge } from "../edge/edge.js";
import { tuneHeapForCalls } from "../process/heap-tuning.js";
import { explainListenError } from "../process/ports.js";
import { runService } from "../process/run-service.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { RegionWorker } from "../region/worker.js";
import { vizPlugin } from "../visualizer/server/plugin.js";
import { EgressPolicy } from "../webhook/egress.js";
import {
  natsOption,
  operatorToken,
  operatorTokenOption,
  parseHttpUrl,
  parseName,
  parseNumber,
  splitList,
} from "./options.js";

interface RegionFlags {
  region: string;
  drain: number;
  nats?: string;
  concurrency: number;
  /** Seconds. */
  maxWait: number;
  allowEgress?: string;
  apiUrl: string;
}

interface ApiFlags {
  port: number;
  host: string;
  nats?: string;
  operatorToken?: string;
  edge: string;
  apiUrl?: string;
}

export function registerServiceCommands(program: Command): void {
  program
    .command("edge")
    .description("answer call offers at an edge and hand each call to its number's region")
    .requiredOption("--edge <name>", "the edge's name, e.g. ashburn", parseName)
    .addOption(natsOption())
    .option(
      "--routing-stream <name>",
      "the stream to read the routing table from (default: sb_routing, or the mirror of the region it is in)",
    )
    .action((o: { edge: string; nats?: string; routingStream?: string }) =>
      runService(
        `edge ${o.edge}`,
        async (log) => {
          tuneHeapForCalls(); // every offer's path runs here (process/heap-tuning.ts)
          const nc = await connectNats(natsUrl(o.nats), `switchboard-edge-${o.edge}`);
          const edge = await Edge.start({ nc, edge: o.edge, log, routingStream: o.routingStream });
          return {
            stop: async () => {
              await edge.stop();
              await nc.drain();
            },
          };
        },
        { component: "edge", edge: o.edge },
      ),
    );

  program
    .command("region")
    .description("run a region worker: host the region's calls, one actor per call")
    .requiredOption("--region <name>", "the region's name, e.g. us1", parseName)
    .addOption(natsOption())
    .addOption(
      new Option(
        "--allow-egress <cidrs>",
        "comma-separated networks webhooks may reach besides public addresses (e.g. 127.0.0.0/8)",
      ).env("SWITCHBOARD_ALLOW_EGRESS"),
    )
    .addOption(
      new Option(
        "--api-url <url>",
        "the REST API's address as your apps reach it: RecordingUrl and TranscriptionUrl start with it",
      )
        .argParser(parseHttpUrl)
        .env("SWITCHBOARD_API_URL")
        .default("http://127.0.0.1:8080"),
    )
    .addOption(
      new Option("--concurrency <n>", "the most live calls this worker hosts")
        .argParser(parseNumber(1, 1_000_000))
        .default(1000),
    )
    .addOption(
      new Option("--max-wait <seconds>", "fail (90005) a call that waited longer than this for a worker")
        .argParser(parseNumber(1, 86_400))
        .default(60),
    )
    .addOption(
      new Option(
        "--drain <seconds>",
        "on SIGTERM, how long live calls may finish before they are handed over",
      )
        .argParser(parseNumber(0, 86_400))
        .default(10),
    )
    .action((o: RegionFlags) =>
      runService(
        `region ${o.region}`,
        async (log) => {
          tuneHeapForCalls(); // this process hosts calls (process/heap-tuning.ts)
          const url = natsUrl(o.nats);
          const nc = await connectNats(url, `switchboard-region-${o.region}`);
          const worker = await RegionWorker.start({
            nc,
            // The heartbeat gets a thread and a connection of its own (region/host/heartbeats.ts).
            natsUrl: url,
            region: o.region,
            log,
            apiUrl: o.apiUrl,
            concurrency: o.concurrency,
            maxWaitMs: o.maxWait * 1000,
            drainMs: o.drain * 1000,
            // A worker requests tenants' URLs: internal networks are refused unless allowed.
            egress: EgressPolicy.internalDenied(splitList(o.allowEgress)),
          });
          return {
            stop: async () => {
              await worker.stop();
              await nc.drain();
            },
          };
        },
        { component: "region", region: o.region },
      ),
    );

  program
    .command("api")
    .description("serve the Twilio-compatible REST API")
    .addOption(new Option("--port <port>", "HTTP port").argParser(parseNumber(0, 65535)).default(8080))
    .addOption(new Option("--host <host>", "address to listen on").default("127.0.0.1"))
    .addOption(natsOption())
    .addOption(operatorTokenOption())
    .addOption(
      new Option("--edge <name>", "the edge outbound calls to numbers switchboard hosts go through")
        .argParser(parseName)
        .default(DEFAULT_OUTBOUND_EDGE),
    )
    .addOption(
      new Option(
        "--api-url <url>",
        "the api's address as your apps reach it: a Recording's media_url starts with it (default: where it listens)",
      )
        .argParser(parseHttpUrl)
        .env("SWITCHBOARD_API_URL"),
    )
    .action((o: ApiFlags) =>
      runService(
        "api",
        async (log) => {
          const operator = operatorToken(o.operatorToken);
          const nc = await connectNats(natsUrl(o.nats), "switchboard-api");
          const api = await startApi({
            nc,
            port: o.port,
            host: o.host,
            log,
            operatorToken: operator,
            parts: [vizPlugin],
            outbound: { edge: o.edge },
            ...(o.apiUrl && { publicUrl: o.apiUrl }),
          }).catch((err: unknown) =>
            explainListenError(
              err,
              o.port,
              "the api",
              "stop what holds it, or pass --port N (0: any free port)",
            ),
          );
          log.info({ url: api.url }, "listening");
          return {
            stop: async () => {
              await api.close();
              await nc.drain();
            },
          };
        },
        { component: "api" },
      ),
    );
}
