// `/v1/Trunks.json` and `/v1/Trunks/{Name}.json`: switchboard's own resource, not Twilio's Elastic SIP
// Trunking API (there Twilio is the carrier; here a trunk is the operator's carrier). The operator's
// configuration, so only the operator (`--operator-token`) reads it; a password is never returned.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { TRUNK_NAME_PATTERN, type TrunkView, trunkView } from "../../model/trunk.js";
import { readTrunk, readTrunks } from "../../store/trunks.js";
import { OPERATOR_USER } from "../logins.js";
import { sendTwilioError } from "../twilio-error.js";
import type { RestContext } from "./context.js";
import { installErrorHandling } from "./errors.js";
import { pathParams, resource, responses } from "./schemas.js";

const trunkSchema = resource("Trunk", {
  name: "string",
  host: "string",
  port: "integer",
  transport: "string",
  username: "string?",
  has_password: "boolean",
  from_domain: "string?",
  inbound_cidrs: "array",
  date_created: "string",
  date_updated: "string",
  uri: "string",
});

const trunkUri = (name: string) => `/v1/Trunks/${name}.json`;
const shown = (t: TrunkView) => ({ ...t, uri: trunkUri(t.name) });

/** The /v1 scope: its own login rule (the operator only), Twilio's error bodies. */
export async function trunkRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  installErrorHandling(app);
  app.addHook("onRequest", async (req, reply) => requireOperator(req, reply, ctx));

  app.get(
    "/Trunks.json",
    {
      schema: {
        operationId: "ListTrunk",
        summary: "The SIP trunks (switchboard's own resource; the operator only)",
        tags: ["Trunks"],
        response: responses({
          type: "object",
          properties: { trunks: { type: "array", items: trunkSchema }, uri: { type: "string" } },
        }),
      },
    },
    async () => ({
      trunks: (await readTrunks(ctx.trunks)).map((t) => shown(trunkView(t))),
      uri: "/v1/Trunks.json",
    }),
  );

  app.get(
    "/Trunks/:Name.json",
    {
      schema: {
        operationId: "FetchTrunk",
        summary: "One SIP trunk (switchboard's own resource; the operator only)",
        tags: ["Trunks"],
        params: pathParams({ Name: { type: "string", pattern: TRUNK_NAME_PATTERN.source } }),
        response: responses(trunkSchema),
      },
    },
    async (req) => {
      const { Name } = req.params as { Name: string };
      const trunk = await readTrunk(ctx.trunks, Name);
      if (!trunk) throw fail("notFound", `The requested resource ${req.url} was not found`);
      return shown(trunkView(trunk));
    },
  );
}

/**
 * Basic `operator:<operator token>`, checked (and failures counted) by the same `Logins` as the
 * visualizer's. An account's own credentials are right but not enough: 401 all the same.
 */
async function requireOperator(
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: RestContext,
): Promise<FastifyReply | undefined> {
  const outcome = ctx.logins.loginBasic(req.ip, req.headers.authorization);
  if (outcome && !outcome.ok && outcome.retryAfter > 0) {
    reply.header("Retry-After", String(outcome.retryAfter));
    return sendTwilioError(
      reply,
      "tooManyRequests",
      `Too many failed logins; retry in ${outcome.retryAfter} s`,
    );
  }
  if (outcome?.ok && outcome.viewer.accountSid === null) return undefined;
  reply.header("WWW-Authenticate", 'Basic realm="switchboard operator"');
  return sendTwilioError(
    reply,
    "authenticationFailed",
    `Trunks are the operator's: authenticate as ${OPERATOR_USER} with the api's --operator-token`,
  );
}
