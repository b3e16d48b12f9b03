// The api process: Twilio's REST API over the records the regions store (issue #6 grows it),
// plus /healthz. Accounts are read from a watched copy of `sb_accounts`.

import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import Fastify from "fastify";
import { buckets } from "../bus/subjects.js";
import type { Logger } from "../log.js";
import type { AccountRecord, CallResource } from "../model/records.js";
import { openGlobalStores } from "../store/global.js";
import { JsonKv } from "../store/json-kv.js";
import { WatchedKv } from "../store/watched-kv.js";
import { basicCredentials, tokenMatches } from "./auth.js";
import { regionFromHost } from "./region-from-host.js";
import { sendTwilioError } from "./twilio-error.js";

export interface Api {
  url: string;
  close(): Promise<void>;
}

export async function startApi(opts: {
  nc: NatsConnection;
  port: number;
  host?: string;
  log: Logger;
}): Promise<Api> {
  const global = await openGlobalStores(opts.nc);
  const accounts = await WatchedKv.start<AccountRecord>(global.accounts.kv);
  // Requests are logged at info; the api logs warnings and errors only, to keep the hot path quiet.
  const app = Fastify({ loggerInstance: opts.log.child({ component: "api" }, { level: "warn" }) });

  app.get("/healthz", async () => ({ status: "ok" }));

  app.register(async (scoped) => {
    scoped.addHook("onRequest", async (req, reply) => {
      const creds = basicCredentials(req.headers.authorization);
      const { AccountSid } = req.params as { AccountSid?: string };
      if (!creds || !tokenMatches(accounts.get(creds.user), creds.password)) {
        reply.header("WWW-Authenticate", 'Basic realm="switchboard"');
        return sendTwilioError(reply, "authenticationFailed", "Authenticate");
      }
      // Another account's resources do not exist, as far as this caller can tell.
      if (AccountSid !== creds.user) {
        return sendTwilioError(reply, "notFound", `The requested resource ${req.url} was not found`);
      }
    });
    scoped.get("/2010-04-01/Accounts/:AccountSid/Calls/:CallSid.json", async (req, reply) => {
      const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
      const region = regionFromHost(req.headers.host);
      const kv = await new Kvm(opts.nc).open(buckets.calls(region));
      const call = await new JsonKv<CallResource>(kv).get(CallSid).catch(() => undefined);
      if (!call || call.account_sid !== AccountSid) {
        return sendTwilioError(reply, "notFound", `The requested resource ${req.url} was not found`);
      }
      return call;
    });
  });

  const address = await app.listen({ port: opts.port, host: opts.host ?? "127.0.0.1" });
  return {
    url: address,
    close: async () => {
      accounts.stop();
      await app.close();
    },
  };
}
