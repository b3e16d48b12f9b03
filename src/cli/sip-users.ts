// `switchboard sip-users add|remove|list --file FILE`: the users a SIP gateway takes from outside its
// --allow networks by digest authentication (`switchboard sip --digest-users FILE`, docs/sip.md
// "Callers who authenticate"). The file keeps each password's HA1, never the password, and is never
// printed: `list` shows users and realms. A running gateway reads it again on SIGHUP.
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  checkRealm,
  checkSipPassword,
  checkSipUserName,
  ha1,
  readUsersFile,
  withoutUser,
  withUser,
  writeUsersFile,
} from "../admin/sip-users.js";
import { fail } from "../errors/switchboard-error.js";
import { SipUsers } from "../sip/sip-users.js";
import { action } from "./options.js";

/** A check as a commander parser: a bad value is a usage error (exit 2) with its message. */
function usage(check: (value: string) => string): (value: string) => string {
  return (value) => {
    try {
      return check(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

const fileOption = () =>
  new Option("--file <path>", "the htdigest file (the gateway's --digest-users)").makeOptionMandatory();
const realmOption = () =>
  new Option("--realm <realm>", "the realm: the SIP domain phones call (e.g. sip.example.com)")
    .argParser(usage(checkRealm))
    .makeOptionMandatory();

function warnOf(warning: string | undefined): void {
  if (warning) process.stderr.write(`warning: ${warning}\n`);
}

export function registerSipUsersCommands(program: Command): void {
  const users = program
    .command("sip-users")
    .description("manage the users a SIP gateway takes by digest authentication (its --digest-users file)");
  users
    .command("add")
    .description("add a user, or set its password (then send the gateway SIGHUP)")
    .argument(
      "<user>",
      "the user name phones authenticate as (at most 32 characters)",
      usage(checkSipUserName),
    )
    .addOption(fileOption())
    .addOption(realmOption())
    .addOption(
      new Option(
        "--password <password>",
        "at least 12 characters, mixed case and a digit (prefer the environment: a flag shows in ps)",
      )
        .env("SWITCHBOARD_SIP_PASSWORD")
        .argParser(usage(checkSipPassword))
        .makeOptionMandatory(),
    )
    .action(
      action(async (user: string, o: { file: string; realm: string; password: string }) => {
        const text = await readUsersFile(o.file);
        const existed = withoutUser(text, user, o.realm) !== undefined;
        const line = `${user}:${o.realm}:${ha1(user, o.realm, o.password)}`;
        warnOf(await writeUsersFile(o.file, withUser(text, user, o.realm, line)));
        process.stdout.write(`${existed ? "password set for" : "added"} ${user} in ${o.realm} (${o.file})\n`);
      }),
    );
  users
    .command("remove")
    .description("remove a user (then send the gateway SIGHUP)")
    .argument("<user>", "the user name", usage(checkSipUserName))
    .addOption(fileOption())
    .addOption(realmOption())
    .action(
      action(async (user: string, o: { file: string; realm: string }) => {
        const text = withoutUser(await readUsersFile(o.file), user, o.realm);
        if (text === undefined) throw fail("notFound", `${o.file} has no user ${user} in ${o.realm}`);
        warnOf(await writeUsersFile(o.file, text));
        process.stdout.write(`removed ${user} from ${o.realm} (${o.file})\n`);
      }),
    );
  users
    .command("list")
    .description("every user and its realm (never a password or its hash)")
    .addOption(fileOption())
    .action(
      action(async (o: { file: string }) => {
        // A file that is not there is an error here: a mistyped --file must not read as "no users".
        for (const { realm, user } of SipUsers.read(o.file).list())
          process.stdout.write(`${user}  ${realm}\n`);
      }),
    );
}
