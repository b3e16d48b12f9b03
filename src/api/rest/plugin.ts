// Twilio's REST API (/2010-04-01/…): Basic auth per account, Twilio's error bodies.
import { Kvm } from "@nats-io/kv";
import type { FastifyInstance } from "fastify";
import { buckets } from "../../bus/subjects.js";
import type { CallResource } from "../../model/records.js";
import { JsonKv } from "../../store/json-kv.js";
import { basicCredentials, tokenMatches } from "../auth.js";
import type { ApiContext } from "../context.js";
import { regionFromHost } from "../region-from-host.js";
import { sendTwilioError } from "../twilio-error.js";

export async function restApi(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.addHook("onRequest", async (req, reply) => {
    const creds = basicCredentials(req.headers.authorization);
    const { AccountSid } = req.params as { AccountSid?: string };
    if (!creds || !tokenMatches(ctx.accounts.get(creds.user), creds.password)) {
      reply.header("WWW-Authenticate", 'Basic realm="switchboard"');
      return sendTwilioError(reply, "authenticationFailed", "Authenticate");
    }
    // Another account's resources do not exist, as far as this caller can tell.
    if (AccountSid !== creds.user) {
      return sendTwilioError(reply, "notFound", `The requested resource ${req.url} was not found`);
    }
  });

  app.get("/2010-04-01/Accounts/:AccountSid/Calls/:CallSid.json", async (req, reply) => {
    const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
    const region = regionFromHost(req.headers.host);
    const kv = await new Kvm(ctx.nc).open(buckets.calls(region));
    const call = await new JsonKv<CallResource>(kv).get(CallSid).catch(() => undefined);
    if (!call || call.account_sid !== AccountSid) {
      return sendTwilioError(reply, "notFound", `The requested resource ${req.url} was not found`);
    }
    return call;
  });
}
