// `switchboard accounts add|update|list|get`, `switchboard numbers add|route`.
import { type Command, InvalidArgumentError, Option } from "commander";
import { addAccount, getAccount, listAccounts, updateAccount } from "../admin/accounts.js";
import { addNumber, routeNumber } from "../admin/numbers.js";
import { requireRegion } from "../admin/regions.js";
import type { AccountRecord } from "../model/records.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { openGlobalStores } from "../store/global.js";
import { registerCallerIdCommands } from "./caller-ids.js";
import { action, natsOption, parseName } from "./options.js";

async function withGlobal<T>(
  nats: string | undefined,
  fn: (
    g: Awaited<ReturnType<typeof openGlobalStores>>,
    nc: Awaited<ReturnType<typeof connectNats>>,
  ) => Promise<T>,
) {
  const nc = await connectNats(natsUrl(nats), "switchboard-cli", 5_000);
  try {
    return await fn(await openGlobalStores(nc), nc);
  } finally {
    await nc.close();
  }
}

interface AccountOptions {
  sid: string;
  token: string;
  friendlyName?: string;
  default?: boolean;
  signingKeySid?: string;
  signingSecret?: string;
  signingAlgorithm: "HMAC_SHA1" | "HMAC_SHA256";
  mediaAuth?: boolean;
  nats?: string;
}

/** `--media-auth on|off`: Twilio's "Enforce HTTP Auth on Media URLs" (default off). */
const mediaAuthOption = () =>
  new Option(
    "--media-auth <on|off>",
    "require the account's credentials to fetch recording media (Twilio's \"Enforce HTTP Auth on Media URLs\"; default off)",
  )
    .choices(["on", "off"])
    .argParser((v) => {
      if (v !== "on" && v !== "off") throw new InvalidArgumentError("on or off");
      return v === "on";
    });

export function registerAdminCommands(program: Command): void {
  const accounts = program.command("accounts").description("manage accounts");
  accounts
    .command("add")
    .description("add or update an account (its token signs the webhooks of its numbers)")
    .requiredOption("--sid <AccountSid>", "AC followed by 32 hex digits")
    .requiredOption("--token <token>", "the account's auth token")
    .option("--friendly-name <name>", "a name for people")
    .option("--default", "make it the account numbers belong to when added without --account")
    .option("--signing-key-sid <sid>", "sign webhooks with a shared key (Twilio Webhooks Rules) with this id")
    .option("--signing-secret <secret>", "the shared key's secret")
    .addOption(
      new Option("--signing-algorithm <alg>", "the shared key's algorithm")
        .choices(["HMAC_SHA1", "HMAC_SHA256"])
        .default("HMAC_SHA256"),
    )
    .addOption(mediaAuthOption())
    .addOption(natsOption())
    .action(
      action(async (o: AccountOptions) => {
        if (!!o.signingKeySid !== !!o.signingSecret) {
          throw new Error("--signing-key-sid and --signing-secret go together");
        }
        await withGlobal(o.nats, async (g) => {
          const a = await addAccount(g, {
            sid: o.sid,
            token: o.token,
            ...(o.friendlyName && { friendlyName: o.friendlyName }),
            makeDefault: !!o.default,
            ...(o.mediaAuth !== undefined && { enforceMediaAuth: o.mediaAuth }),
            ...(o.signingKeySid &&
              o.signingSecret && {
                signingKey: { sid: o.signingKeySid, secret: o.signingSecret, algorithm: o.signingAlgorithm },
              }),
          });
          process.stdout.write(`account ${a.sid} saved\n`);
        });
      }),
    );
  accounts
    .command("update <AccountSid>")
    .description("change an account's settings")
    .option("--friendly-name <name>", "a name for people")
    .addOption(mediaAuthOption())
    .addOption(natsOption())
    .action(
      action(async (sid: string, o: { friendlyName?: string; mediaAuth?: boolean; nats?: string }) => {
        await withGlobal(o.nats, async (g) => {
          const a = await updateAccount(g, sid, {
            ...(o.friendlyName !== undefined && { friendlyName: o.friendlyName }),
            ...(o.mediaAuth !== undefined && { enforceMediaAuth: o.mediaAuth }),
          });
          const media = a.enforce_media_auth ? "on" : "off";
          process.stdout.write(`account ${a.sid} updated (media auth ${media})\n`);
        });
      }),
    );

  accounts
    .command("list")
    .description("every account with its auth token (admin: this prints secrets); * marks the default")
    .option("--json", "print the account records as JSON")
    .addOption(natsOption())
    .action(
      action(async (o: { json?: boolean; nats?: string }) => {
        await withGlobal(o.nats, async (g) => {
          const { accounts: all, defaultSid } = await listAccounts(g);
          if (o.json) {
            const records = all.map((a) => ({ ...a, default: a.sid === defaultSid }));
            process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
            return;
          }
          for (const a of all) {
            const mark = a.sid === defaultSid ? "*" : " ";
            process.stdout.write(`${mark} ${a.sid}  token ${a.auth_token}  ${a.friendly_name}\n`);
          }
        });
      }),
    );
  accounts
    .command("get <AccountSid>")
    .description("one account with its auth token (admin: this prints secrets), e.g. up's after a restart")
    .option("--json", "print the account record as JSON")
    .addOption(natsOption())
    .action(
      action(async (sid: string, o: { json?: boolean; nats?: string }) => {
        await withGlobal(o.nats, async (g) => {
          const a: AccountRecord = await getAccount(g, sid);
          process.stdout.write(
            o.json
              ? `${JSON.stringify(a, null, 2)}\n`
              : `account ${a.sid}\ntoken   ${a.auth_token}\nname    ${a.friendly_name}\n`,
          );
        });
      }),
    );

  registerCallerIdCommands(program);

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
    .addOption(natsOption())
    .action(
      action(async (number: string, o: Record<string, string | undefined>) => {
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
          });
          const route = routed ? `, routed to ${o.region}` : "";
          process.stdout.write(
            `number ${config.phone_number} (${config.sid}) saved in ${o.region}${route}\n`,
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
