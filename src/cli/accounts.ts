// `switchboard accounts add|update|list|get`.
import { type Command, InvalidArgumentError, Option } from "commander";
import { addAccount, getAccount, listAccounts, updateAccount } from "../admin/accounts.js";
import type { AccountRecord } from "../model/records.js";
import { withGlobal } from "./global-stores.js";
import { action, natsOption } from "./options.js";
import { parseTrunkName, trunkNote } from "./trunks.js";

interface AccountOptions {
  sid: string;
  token: string;
  friendlyName?: string;
  default?: boolean;
  signingKeySid?: string;
  signingSecret?: string;
  signingAlgorithm: "HMAC_SHA1" | "HMAC_SHA256";
  trunk?: string;
  mediaAuth?: boolean;
  nats?: string;
}

interface UpdateFlags {
  friendlyName?: string;
  mediaAuth?: boolean;
  trunk?: string | false;
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

export function registerAccountCommands(program: Command): void {
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
    .addOption(
      new Option(
        "--trunk <name>",
        "the SIP trunk its numbers' calls go out through, unless a number names its own",
      ).argParser(parseTrunkName),
    )
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
            ...(o.trunk && { trunk: o.trunk }),
          });
          process.stdout.write(`account ${a.sid} saved${trunkNote(a.outbound_trunk)}\n`);
        });
      }),
    );

  accounts
    .command("update <AccountSid>")
    .description(
      "change an account's settings: what is given, the rest (token, status, signing key) as stored",
    )
    .option("--friendly-name <name>", "a name for people")
    .addOption(mediaAuthOption())
    .addOption(
      new Option(
        "--trunk <name>",
        "the SIP trunk its numbers' calls go out through, unless a number names its own",
      ).argParser(parseTrunkName),
    )
    .option("--no-trunk", "its numbers' calls go out through no trunk (unless a number names one)")
    .addOption(natsOption())
    .action(
      action(async (sid: string, o: UpdateFlags) => {
        await withGlobal(o.nats, async (g) => {
          const a = await updateAccount(g, sid, {
            ...(o.friendlyName !== undefined && { friendlyName: o.friendlyName }),
            ...(o.mediaAuth !== undefined && { enforceMediaAuth: o.mediaAuth }),
            ...(o.trunk !== undefined && { trunk: o.trunk || null }),
          });
          const media = a.enforce_media_auth ? "on" : "off";
          process.stdout.write(
            `account ${a.sid} updated (media auth ${media})${trunkNote(a.outbound_trunk)}\n`,
          );
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
}
