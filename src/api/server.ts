// The api process: Twilio's REST API over the records the regions store, and /healthz. Each
// group of routes is a fastify plugin in its own folder, given the same ApiContext.
import type { NatsConnection } from "@nats-io/transport-node";
import Fastify from "fastify";
import type { Logger } from "../log.js";
import type { AccountRecord } from "../model/records.js";
import { openGlobalStores } from "../store/global.js";
import { WatchedKv } from "../store/watched-kv.js";
import type { ApiContext } from "./context.js";
import { restApi } from "./rest/plugin.js";
import { vizPlugin } from "./viz/plugin.js";

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
  const ctx: ApiContext = { nc: opts.nc, log: opts.log, global, accounts };
  // Requests are logged at info; the api logs warnings and errors only, to keep the hot path quiet.
  const app = Fastify({ loggerInstance: opts.log.child({ component: "api" }, { level: "warn" }) });

  app.get("/healthz", async () => ({ status: "ok" }));
  await app.register(restApi, ctx);
  await app.register(vizPlugin, ctx);

  const address = await app.listen({ port: opts.port, host: opts.host ?? "127.0.0.1" });
  return {
    url: address,
    close: async () => {
      accounts.stop();
      await app.close();
    },
  };
}
