// `switchboard caller-ids add|list|remove`: an account's verified caller IDs, the numbers besides its
// own that a <Dial callerId> may show (REST: OutgoingCallerIds). Added at once, without Twilio's
// validation call.
import type { Command } from "commander";
import { addCallerId, removeCallerId } from "../admin/caller-ids.js";
import { fail } from "../errors/switchboard-error.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { listCallerIds } from "../store/caller-ids.js";
import { defaultAccountSid, type GlobalStores, openGlobalStores } from "../store/global.js";
import { action, natsOption } from "./options.js";

interface Flags {
  account?: string;
  friendlyName?: string;
  nats?: string;
}

async function withAccount<T>(o: Flags, fn: (g: GlobalStores, accountSid: string) => Promise<T>) {
  const nc = await connectNats(natsUrl(o.nats), "switchboard-cli", 5_000);
  try {
    const g = await openGlobalStores(nc);
    const accountSid = o.account ?? (await defaultAccountSid(g));
    if (!accountSid)
      throw fail("notFound", "no --account given and no default account (run `switchboard up` once)");
    return await fn(g, accountSid);
  } finally {
    await nc.close();
  }
}

export function registerCallerIdCommands(program: Command): void {
  const ids = program
    .command("caller-ids")
    .description("an account's verified caller IDs: numbers <Dial callerId> may show besides its own");
  const accountOption = "--account <AccountSid>";
  const accountHelp = "the account (default: the default account)";
  ids
    .command("add <number>")
    .description("verify a number (E.164) as a caller ID of the account, at once")
    .option(accountOption, accountHelp)
    .option("--friendly-name <name>", "a name for people")
    .addOption(natsOption())
    .action(
      action(async (number: string, o: Flags) => {
        await withAccount(o, async (g, accountSid) => {
          const c = await addCallerId(g, accountSid, number, o.friendlyName);
          process.stdout.write(`caller ID ${c.phone_number} (${c.sid}) verified for ${accountSid}\n`);
        });
      }),
    );
  ids
    .command("list")
    .description("the account's verified caller IDs")
    .option(accountOption, accountHelp)
    .addOption(natsOption())
    .action(
      action(async (o: Flags) => {
        await withAccount(o, async (g, accountSid) => {
          if (!(await g.accounts.get(accountSid))) throw fail("notFound", `no account ${accountSid}`);
          for (const c of await listCallerIds(g.callerIds, accountSid)) {
            process.stdout.write(`${c.phone_number}  ${c.sid}  ${c.friendly_name}\n`);
          }
        });
      }),
    );
  ids
    .command("remove <number-or-sid>")
    .description("remove a verified caller ID, by its number or its PN… sid")
    .option(accountOption, accountHelp)
    .addOption(natsOption())
    .action(
      action(async (which: string, o: Flags) => {
        await withAccount(o, async (g, accountSid) => {
          const c = await removeCallerId(g, accountSid, which);
          process.stdout.write(`caller ID ${c.phone_number} (${c.sid}) removed from ${accountSid}\n`);
        });
      }),
    );
}
