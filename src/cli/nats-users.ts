// `switchboard nats-users --regions us1,ie1,ap1`: the `authorization` block of every nats-server of a
// deployment of those regions, one user per role with the rights it uses and no more (docs/regions.md,
// "NATS users and permissions"). deploy/nats/*.conf carry it for us1 and ie1; a deployment with other
// regions renders its own here. Passwords are never printed: each is a `$VARIABLE` nats-server reads
// from its environment.
import { type Command, InvalidArgumentError } from "commander";
import { authorizationConfig, natsUsers, passwordVar, regionsProblem } from "../admin/nats-users.js";
import { parseNames } from "./options.js";

function parseRegions(value: string): string[] {
  const regions = parseNames(value);
  const problem = regionsProblem(regions);
  if (problem) throw new InvalidArgumentError(problem);
  return regions;
}

export function registerNatsUsersCommand(program: Command): void {
  program
    .command("nats-users")
    .description(
      "print the NATS users of a deployment (the authorization block of every nats-server's config)",
    )
    .requiredOption(
      "--regions <list>",
      "the deployment's regions, comma-separated, e.g. us1,ie1",
      parseRegions,
    )
    .action((opts: { regions: string[] }) => {
      const users = natsUsers(opts.regions);
      process.stdout.write(
        [
          `# The NATS users of a switchboard deployment of ${opts.regions.join(", ")} (docs/regions.md):`,
          "# the same block goes in every nats-server's config, global and regional. Each password is",
          "# read from the server's environment:",
          ...users.map((user) => `#   ${passwordVar(user).padEnd(20)} ${user}`),
          authorizationConfig(opts.regions, (user) => `$${passwordVar(user)}`),
        ].join("\n"),
      );
    });
}
