// `switchboard trunks add|list|remove`: the SIP trunks calls go out through and come in from
// (docs/sip.md, "Trunks"). A password is never printed: `list` says only whether one is set.
import { type Command, InvalidArgumentError, Option } from "commander";
import { addTrunk, removeTrunk } from "../admin/trunks.js";
import { SwitchboardError } from "../errors/switchboard-error.js";
import {
  checkFromDomain,
  checkTrunkName,
  normalizeCidr,
  parseHostPort,
  TRANSPORTS,
  type TrunkView,
  trunkView,
} from "../model/trunk.js";
import { readTrunks } from "../store/trunks.js";
import { withGlobal } from "./global-stores.js";
import { action, natsOption, splitList } from "./options.js";

/** A model check as a commander parser: a bad value is a usage error (exit 2) with its message. */
function usage<T>(check: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return check(value);
    } catch (err) {
      if (err instanceof SwitchboardError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

export const parseTrunkName = usage(checkTrunkName);

export function trunkNote(trunk: string | null | undefined): string {
  return trunk ? `, outbound trunk ${trunk}` : "";
}

interface AddFlags {
  host: { host: string; port: number };
  transport: string;
  username?: string;
  password?: string;
  fromDomain?: string;
  inboundCidr: string[];
  replace?: boolean;
  nats?: string;
}

export function registerTrunkCommands(program: Command): void {
  const trunks = program
    .command("trunks")
    .description(
      "manage SIP trunks: where calls to the outside world go, and where inbound calls may come from",
    );
  trunks
    .command("add")
    .description("add a SIP trunk (a number or account names it with --trunk)")
    .argument("<name>", "its name: lower-case letters, digits, '-' and '_'", parseTrunkName)
    .requiredOption(
      "--host <host[:port]>",
      "where its calls go: a host name or IP ([v6] in brackets), port 5060 unless given",
      usage(parseHostPort),
    )
    .addOption(
      new Option("--transport <transport>", "SIP over udp or tcp").choices(TRANSPORTS).default("udp"),
    )
    .option("--username <user>", "the digest username the trunk challenges calls for (with --password)")
    .addOption(
      new Option(
        "--password <password>",
        "the digest password (prefer the environment: a flag shows in ps)",
      ).env("SWITCHBOARD_TRUNK_PASSWORD"),
    )
    .option(
      "--from-domain <domain>",
      "the domain in From of its calls (default: the host)",
      usage(checkFromDomain),
    )
    .option(
      "--inbound-cidr <cidrs>",
      "a network its inbound calls come from (repeat, or comma-separated): the gateway admits it",
      (value: string, previous: string[]) => [...previous, ...splitList(value).map(usage(normalizeCidr))],
      [] as string[],
    )
    .option("--replace", "replace the trunk of that name (who names it keeps naming it)")
    .addOption(natsOption())
    .action(
      action(async (name: string, o: AddFlags, cmd: Command) => {
        if ((o.username === undefined) !== (o.password === undefined)) {
          cmd.error(
            "error: --username and --password go together (the password may come from SWITCHBOARD_TRUNK_PASSWORD)",
          );
        }
        await withGlobal(o.nats, async (g) => {
          const t = await addTrunk(g, {
            name,
            host: formatHostPort(o.host),
            transport: o.transport,
            ...(o.username !== undefined && { username: o.username }),
            ...(o.password !== undefined && { password: o.password }),
            ...(o.fromDomain !== undefined && { fromDomain: o.fromDomain }),
            inboundCidrs: o.inboundCidr,
            replace: !!o.replace,
          });
          process.stdout.write(`trunk ${t.name} saved: ${describe(trunkView(t))}\n`);
        });
      }),
    );
  trunks
    .command("list")
    .description("every trunk (passwords are never shown: only whether one is set)")
    .option("--json", "print the trunks as JSON")
    .addOption(natsOption())
    .action(
      action(async (o: { json?: boolean; nats?: string }) => {
        await withGlobal(o.nats, async (g) => {
          const views = (await readTrunks(g)).map(trunkView);
          if (o.json) {
            process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
            return;
          }
          for (const t of views) process.stdout.write(`${t.name}  ${describe(t)}\n`);
        });
      }),
    );
  trunks
    .command("remove")
    .description("remove a trunk that no number or account names")
    .argument("<name>", "the trunk's name", parseTrunkName)
    .addOption(natsOption())
    .action(
      action(async (name: string, o: { nats?: string }) => {
        await withGlobal(o.nats, async (g, nc) => {
          await removeTrunk(nc, g, name);
          process.stdout.write(`trunk ${name} removed\n`);
        });
      }),
    );
}

function formatHostPort({ host, port }: { host: string; port: number }): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** One line: `udp sip.example.com:5060, user alice (password set), from example.com, inbound 192.0.2.0/24`. */
function describe(t: TrunkView): string {
  const parts = [`${t.transport} ${formatHostPort(t)}`];
  if (t.username !== null)
    parts.push(`user ${t.username} (${t.has_password ? "password set" : "no password"})`);
  if (t.from_domain !== null) parts.push(`from ${t.from_domain}`);
  parts.push(t.inbound_cidrs.length > 0 ? `inbound ${t.inbound_cidrs.join(" ")}` : "no inbound networks");
  return parts.join(", ");
}
