// Basic auth on every Twilio route, and the rule that an account sees only its own resources:
// a path naming another account is 404 (20404), as if it did not exist. Recording media is the
// exception Twilio makes: public unless the account enforces auth on it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AccountRecord } from "../../model/records.js";
import { authenticate } from "../auth.js";
import type { ApiContext } from "../context.js";
import { sendTwilioError } from "../twilio-error.js";
import { notFound } from "./errors.js";

const accounts = new WeakMap<FastifyRequest, AccountRecord>();

/** The authenticated account of a request that passed `requireAccount`. */
export function accountOf(req: FastifyRequest): AccountRecord {
  const account = accounts.get(req);
  if (!account) throw new Error("accountOf: request was not authenticated");
  return account;
}

export function requireAccount(app: FastifyInstance, ctx: ApiContext): void {
  app.addHook("onRequest", async (req, reply) => {
    const config = req.routeOptions.config as { accountSidParam?: "Sid"; media?: boolean } | undefined;
    // Recording media is served without credentials, as Twilio's is, unless its account enforces
    // HTTP auth on media URLs (`accounts add|update --media-auth on`).
    if (config?.media) {
      const owner = ctx.accounts.get((req.params as { AccountSid?: string }).AccountSid ?? "");
      if (owner && owner.enforce_media_auth !== true) return;
    }
    const account = authenticate(req.headers.authorization, (sid) => ctx.accounts.get(sid));
    if (!account) {
      reply.header("WWW-Authenticate", 'Basic realm="switchboard"');
      return sendTwilioError(reply, "authenticationFailed", "Authenticate");
    }
    accounts.set(req, account);
    // Routes under Accounts/{AccountSid} (or Accounts/{Sid}.json) belong to that account.
    const params = req.params as { AccountSid?: string; Sid?: string };
    const pathAccount = config?.accountSidParam === "Sid" ? params.Sid : params.AccountSid;
    if (pathAccount !== undefined && pathAccount !== account.sid) return notFound(reply, req.url);
  });
}
