// Accounts/{Sid}.json: the authenticated account itself (another account's is 404).
import type { FastifyInstance } from "fastify";
import type { AccountRecord } from "../../model/records.js";
import { accountOf } from "./auth-hook.js";
import type { RestContext } from "./context.js";
import { pathParams, resource, responses, sid } from "./schemas.js";

const accountSchema = resource("Account", {
  auth_token: "string",
  date_created: "string",
  date_updated: "string",
  friendly_name: "string",
  owner_account_sid: "string",
  sid: "string",
  status: "string",
  subresource_uris: "object",
  type: "string",
  uri: "string",
  outbound_trunk: "string?",
});

export async function accountRoutes(app: FastifyInstance, _ctx: RestContext): Promise<void> {
  app.get(
    "/Accounts/:Sid.json",
    {
      // The auth hook checks this parameter, not AccountSid, against the credentials.
      config: { accountSidParam: "Sid" },
      schema: {
        operationId: "FetchAccount",
        summary: "The authenticated account",
        tags: ["Accounts"],
        params: pathParams({ Sid: sid("AC") }),
        response: responses(accountSchema),
      },
    },
    async (req) => accountResource(accountOf(req)),
  );
}

/** Twilio's Account resource. The token is the caller's own: it authenticated with it. */
export function accountResource(a: AccountRecord): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${a.sid}`;
  const sub = (name: string) => `${base}/${name}.json`;
  return {
    auth_token: a.auth_token,
    date_created: a.date_created,
    date_updated: a.date_updated,
    friendly_name: a.friendly_name,
    owner_account_sid: a.sid,
    sid: a.sid,
    status: a.status,
    subresource_uris: {
      calls: sub("Calls"),
      conferences: sub("Conferences"),
      incoming_phone_numbers: sub("IncomingPhoneNumbers"),
      queues: sub("Queues"),
      recordings: sub("Recordings"),
      transcriptions: sub("Transcriptions"),
    },
    type: "Full",
    uri: `${base}.json`,
    // switchboard's addition: the trunk its numbers' calls go out through unless one names its own.
    outbound_trunk: a.outbound_trunk ?? null,
  };
}
