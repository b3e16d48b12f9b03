// The api process: Twilio's REST API over the records the regions store, and /healthz. Each
// group of routes is a fastify plugin in its own folder, given the same ApiContext.
import type { NatsConnection } from "@nats-io/transport-node";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { ErrorCodes } from "../errors/codes.js";
import type { Logger } from "../log.js";
import type { AccountRecord } from "../model/records.js";
import { backfillAccountStatus } from "../store/account-status.js";
import { openGlobalStores, openTrunkStores } from "../store/global.js";
import { WatchedKv } from "../store/watched-kv.js";
import { API_BODY_LIMIT } from "./body-limit.js";
import type { ApiContext, OutboundOptions } from "./context.js";
import { LoginLimiter } from "./login-limiter.js";
import { Logins } from "./logins.js";
import { regionPathRewrite } from "./region-from-host.js";
import { installErrorHandling } from "./rest/errors.js";
import { restApi } from "./rest/plugin.js";
import { twilioErrorBody } from "./twilio-error.js";

export { API_BODY_LIMIT } from "./body-limit.js";

/** The edge outbound calls to hosted numbers go through unless told (`up` runs it first). */
export const DEFAULT_OUTBOUND_EDGE = "ashburn";

/** A fastify plugin served beside the REST API, given the api's context. */
export type ApiPart = (app: FastifyInstance, ctx: ApiContext) => Promise<void>;

export interface Api {
  url: string;
  close(): Promise<void>;
}

export async function startApi(opts: {
  nc: NatsConnection;
  port: number;
  host?: string;
  log: Logger;
  /** Failed-login limiter; default 10 failures a minute per client IP and per AccountSid. */
  loginLimiter?: LoginLimiter;
  /** Logs in to the visualizer as the operator, who sees every account's calls; none without it. */
  operatorToken?: string;
  /**
   * Other parts served on the same port, registered after the REST API: the composition root
   * (src/cli) adds the visualizer's server here, so the api does not import it.
   */
  parts?: ApiPart[];
  /** How outbound calls are placed; default through the `ashburn` edge, in real time. */
  outbound?: Partial<OutboundOptions>;
  /** The api's address as apps reach it (`--api-url`); default the address it listens on. */
  publicUrl?: string;
}): Promise<Api> {
  const [global, trunks] = await Promise.all([openGlobalStores(opts.nc), openTrunkStores(opts.nc)]);
  // Accounts made before `sb_account_status` existed (an upgrade) become known to edges.
  const backfilled = await backfillAccountStatus(global.accounts, global.accountStatus);
  if (backfilled > 0) opts.log.info({ backfilled }, "account status written for existing accounts");
  const accounts = await WatchedKv.start<AccountRecord>(global.accounts.kv);
  // One limiter for the REST API and the visualizer's logins: failures count across both.
  const loginLimiter = opts.loginLimiter ?? new LoginLimiter();
  const logins = new Logins((sid) => accounts.get(sid), loginLimiter, opts.operatorToken);
  const outbound: OutboundOptions = { edge: DEFAULT_OUTBOUND_EDGE, ...opts.outbound };
  // Known once the api listens (a --port 0 api's port is the kernel's choice).
  let publicUrl = opts.publicUrl?.replace(/\/+$/, "") ?? "";
  const ctx: ApiContext = {
    nc: opts.nc,
    log: opts.log,
    global,
    trunks,
    accounts,
    logins,
    outbound,
    publicUrl: () => publicUrl,
  };
  // Requests are logged at info; the api logs warnings and errors only, to keep the hot path quiet.
  const app = Fastify({
    loggerInstance: opts.log.child({ component: "api" }, { level: "warn" }),
    bodyLimit: API_BODY_LIMIT,
    // `/ie1/2010-04-01/…` is ie1's, as `api.dublin.ie1…` is (region-from-host.ts).
    rewriteUrl: regionPathRewrite,
    // Refusals before routing (a path with a malformed %-escape): Twilio's body, as everywhere.
    frameworkErrors: (err, _req, reply) => {
      const status = err.statusCode ?? 400;
      void (reply as FastifyReply)
        .code(status)
        .send(twilioErrorBody(ErrorCodes.invalidParameter.code, err.message, status));
    },
  });
  // Outside the Twilio routes too (unknown paths, oversize bodies), errors leave in Twilio's shape.
  // (The cast only widens the logger type: the handlers log through req.log.)
  installErrorHandling(app as unknown as FastifyInstance);

  app.get("/healthz", async () => ({ status: "ok" }));
  await app.register(restApi, { ...ctx, loginLimiter });
  for (const part of opts.parts ?? []) await app.register(part, ctx);

  const address = await app.listen({ port: opts.port, host: opts.host ?? "127.0.0.1" });
  publicUrl ||= address;
  return {
    url: address,
    close: async () => {
      accounts.stop();
      await app.close();
    },
  };
}
