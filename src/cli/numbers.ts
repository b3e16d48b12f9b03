// `switchboard numbers add|update|route`: a number's config in its region, and its route.
import { type Command, Option } from "commander";
import { addNumber, routeNumber, updateNumber } from "../admin/numbers.js";
import { requireRegion } from "../admin/regions.js";
import { withGlobal } from "./global-stores.js";
import { action, natsOption, parseName } from "./options.js";
import { parseTrunkName, trunkNote } from "./trunks.js";

type NumberFlags = Record<string, string | undefined> & { trunk?: string | false };

/** `--trunk NAME` and `--no-trunk` (update only): the trunk the number's calls go out through. */
function trunkOption(): Option {
  return new Option(
    "--trunk <name>",
    "the SIP trunk its calls go out through (wins over its account's; `switchboard trunks add`)",
  ).argParser(parseTrunkName);
}

export function registerNumberCommands(program: Command): void {
  const numbers = program.command("numbers").description("manage phone numbers and their routing");
  numbers
    .command("add <number>")
    .description("configure a number in a region (routes it there too, if it has no route yet)")
    .requiredOption("--region <region>", "the region whose config this is", parseName)
    .requiredOption("--voice-url <url>", "the webhook requested when a call arrives")
    .option("--voice-method <method>", "GET or POST", "POST")
    .option("--fallback-url <url>", "requested when the voice URL fails")
    .option("--fallback-method <method>", "GET or POST", "POST")
    .option("--status-callback <url>", "requested when a call ends")
    .option("--status-callback-method <method>", "GET or POST", "POST")
    .option("--account <AccountSid>", "the owning account (default: the default account)")
    .option("--friendly-name <name>", "a name for people")
    .addOption(trunkOption())
    .addOption(natsOption())
    .action(
      action(async (number: string, o: NumberFlags) => {
        await withGlobal(o.nats, async (g, nc) => {
          await requireRegion(nc, o.region as string);
          const { config, routed } = await addNumber(nc, g, {
            number,
            region: o.region as string,
            voiceUrl: o.voiceUrl as string,
            ...(o.voiceMethod && { voiceMethod: o.voiceMethod }),
            ...(o.fallbackUrl && { fallbackUrl: o.fallbackUrl }),
            ...(o.fallbackMethod && { fallbackMethod: o.fallbackMethod }),
            ...(o.statusCallback && { statusCallback: o.statusCallback }),
            ...(o.statusCallbackMethod && { statusCallbackMethod: o.statusCallbackMethod }),
            ...(o.account && { accountSid: o.account }),
            ...(o.friendlyName && { friendlyName: o.friendlyName }),
            ...(o.trunk && { trunk: o.trunk }),
          });
          const route = routed ? `, routed to ${o.region}` : "";
          process.stdout.write(
            `number ${config.phone_number} (${config.sid}) saved in ${o.region}${route}${trunkNote(config.outbound_trunk)}\n`,
          );
        });
      }),
    );
  numbers
    .command("update <number>")
    .description("change a number's config: what is given, the rest as stored")
    .addOption(
      new Option(
        "--region <region>",
        "the region whose config to change (default: where it is routed)",
      ).argParser(parseName),
    )
    .option("--voice-url <url>", "the webhook requested when a call arrives")
    .option("--voice-method <method>", "GET or POST")
    .option("--fallback-url <url>", "requested when the voice URL fails")
    .option("--fallback-method <method>", "GET or POST")
    .option("--status-callback <url>", "requested when a call ends")
    .option("--status-callback-method <method>", "GET or POST")
    .option("--friendly-name <name>", "a name for people")
    .addOption(trunkOption())
    .option("--no-trunk", "its calls go out through its account's trunk, if any")
    .addOption(natsOption())
    .action(
      action(async (number: string, o: NumberFlags) => {
        await withGlobal(o.nats, async (g, nc) => {
          const config = await updateNumber(nc, g, number, {
            ...(o.region && { region: o.region }),
            ...(o.voiceUrl && { voiceUrl: o.voiceUrl }),
            ...(o.voiceMethod && { voiceMethod: o.voiceMethod }),
            ...(o.fallbackUrl && { fallbackUrl: o.fallbackUrl }),
            ...(o.fallbackMethod && { fallbackMethod: o.fallbackMethod }),
            ...(o.statusCallback && { statusCallback: o.statusCallback }),
            ...(o.statusCallbackMethod && { statusCallbackMethod: o.statusCallbackMethod }),
            ...(o.friendlyName && { friendlyName: o.friendlyName }),
            ...(o.trunk !== undefined && { trunk: o.trunk || null }),
          });
          process.stdout.write(
            `number ${config.phone_number} (${config.sid}) updated${trunkNote(config.outbound_trunk)}\n`,
          );
        });
      }),
    );
  numbers
    .command("route <number> <region>")
    .description("send the number's calls to a region (the global routing table)")
    .addOption(natsOption())
    .action(
      action(async (number: string, region: string, o: { nats?: string }) => {
        await withGlobal(o.nats, async (g, nc) => {
          await requireRegion(nc, region);
          await routeNumber(g, number, region);
          process.stdout.write(`number ${number} routed to ${region}\n`);
        });
      }),
    );
}
