// `switchboard sip --edge NAME [--listen 127.0.0.1:5060] [--rtp-ports 20000-20999]`: the SIP gateway.
import { randomBytes } from "node:crypto";
import { type Command, InvalidArgumentError, Option } from "commander";
import { runService } from "../process/run-service.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { SipGateway } from "../sip/gateway.js";
import { EgressPolicy } from "../webhook/egress.js";
import { natsOption, parseName, splitList } from "./options.js";

interface SipFlags {
  edge: string;
  listen: { address: string; port: number };
  rtpPorts: [number, number];
  mediaAddress?: string;
  id?: string;
  nats?: string;
  allowEgress?: string;
}

export function registerSipCommand(program: Command): void {
  program
    .command("sip")
    .description("run a SIP gateway: answer SIP calls (UDP, G.711 over RTP) and offer them to an edge")
    .requiredOption("--edge <name>", "the edge that takes this gateway's calls", parseName)
    .addOption(
      new Option("--listen <address:port>", "where SIP listens (UDP)")
        .argParser(parseListen)
        .default(parseListen("127.0.0.1:5060"), "127.0.0.1:5060"),
    )
    .addOption(
      new Option("--rtp-ports <from-to>", "the RTP port range")
        .argParser(parseRange)
        .default([20000, 20999], "20000-20999"),
    )
    .option("--media-address <ip>", "the address put in SDP answers (default: the --listen address)")
    .option("--id <name>", "this gateway's name on the bus (default: <edge>-<random>)")
    .addOption(natsOption())
    .addOption(
      new Option(
        "--allow-egress <cidrs>",
        "comma-separated networks <Play> URLs may reach besides public addresses (e.g. 127.0.0.0/8)",
      ).env("SWITCHBOARD_ALLOW_EGRESS"),
    )
    .action((o: SipFlags) =>
      runService(
        `sip ${o.edge}`,
        async (log) => {
          const id = o.id ?? `${o.edge}-${randomBytes(3).toString("hex")}`;
          const nc = await connectNats(natsUrl(o.nats), `switchboard-sip-${id}`);
          const gateway = await SipGateway.start({
            nc,
            edge: o.edge,
            id,
            address: o.listen.address,
            port: o.listen.port,
            rtpPorts: o.rtpPorts,
            ...(o.mediaAddress && { mediaAddress: o.mediaAddress }),
            log,
            // The gateway fetches tenants' <Play> URLs: internal networks are refused unless allowed.
            egress: EgressPolicy.internalDenied(splitList(o.allowEgress)),
          });
          log.info(
            { id, sip: `${o.listen.address}:${o.listen.port}`, rtp: o.rtpPorts.join("-") },
            "listening",
          );
          return {
            stop: async () => {
              await gateway.stop();
              await nc.drain();
            },
          };
        },
        { component: "sip", edge: o.edge },
      ),
    );
}

function parseListen(value: string): { address: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535)
    throw new InvalidArgumentError("expected IPv4:port, e.g. 127.0.0.1:5060");
  return { address: m[1] as string, port };
}

function parseRange(value: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1024 || hi > 65535 || hi - lo < 1)
    throw new InvalidArgumentError(
      "expected a range of at least two ports within 1024-65535, e.g. 20000-20999",
    );
  return [lo, hi];
}
