// A nats-server that runs the SHIPPED deploy/nats users: the `authorization` block of
// deploy/nats/global.conf as it ships, passwords from the server's environment as in production, and
// a connection per role. Tests that run a service under its own user go through this, so a grant the
// service needs and the shipped config lacks fails them (issue #16, item 6).
//
//   const nats = await startShippedNatsServer();
//   const api = await nats.connectAs("api");
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { passwordVar } from "../../src/admin/nats-users.js";
import { type NatsServer, startNatsServer } from "../../src/dev/nats-server.js";
import { natsUsers } from "./supercluster.js";

/** The regions the shipped configs are generated for (test/regions/deploy.test.ts). */
export const SHIPPED_REGIONS = ["us1", "ie1"];

/** deploy/nats, from this file or from its compiled copy in dist/test/ (`npm run screenshot` runs that). */
const DEPLOY_NATS = new URL(
  import.meta.url.includes("/dist/test/") ? "../../../deploy/nats/" : "../../deploy/nats/",
  import.meta.url,
);

/** The shipped config of a cluster (global, us1, ie1). */
export const shippedConf = (cluster: string) =>
  readFileSync(fileURLToPath(new URL(`${cluster}.conf`, DEPLOY_NATS)), "utf8");

/** The `authorization` block of a shipped config (the three clusters' are the same). */
export const authorizationOf = (conf: string) => conf.slice(conf.indexOf("authorization {"));

export interface ShippedNatsServer extends NatsServer {
  /** A connection as `user` (edge, sip, api, admin, region-us1, region-ie1); the caller closes it. */
  connectAs(user: string): Promise<NatsConnection>;
  /** The server's URL with `user`'s credentials, for a CLI's `--nats`. */
  urlAs(user: string): string;
  /** Server log lines that report a refused publish or subscription. */
  violations(): string[];
}

export async function startShippedNatsServer(): Promise<ShippedNatsServer> {
  return await startNatsServerWithUsers(authorizationOf(shippedConf("global")), SHIPPED_REGIONS);
}

/**
 * A nats-server that runs `authorization`, a block whose passwords are `$SB_…_PASSWORD` variables
 * (`switchboard nats-users`, deploy/nats), for the users of `regions`: each user gets a random
 * password, so that no test relies on a known one.
 */
export async function startNatsServerWithUsers(
  authorization: string,
  regions: string[],
): Promise<ShippedNatsServer> {
  const passwords: Record<string, string> = Object.fromEntries(
    natsUsers(regions).map((u) => [u, `${u}-${randomBytes(6).toString("hex")}`]),
  );
  // nats-server reads `$SB_…_PASSWORD` from its environment, which it inherits from this process.
  for (const [user, pass] of Object.entries(passwords)) process.env[passwordVar(user)] = pass;
  const server = await startNatsServer({ port: -1, extraConfig: authorization });
  return Object.assign(server, {
    connectAs: (user: string) => connect({ servers: server.url, user, pass: passwords[user] }),
    urlAs: (user: string) => server.url.replace("nats://", `nats://${user}:${passwords[user]}@`),
    violations: () =>
      server
        .output()
        .split("\n")
        .filter((l) => /violation/i.test(l)),
  });
}
