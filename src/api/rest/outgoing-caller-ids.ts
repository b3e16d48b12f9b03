// OutgoingCallerIds: the account's verified caller IDs, which a <Dial callerId> may show besides the
// account's numbers (`sb_caller_ids`, written through src/admin/caller-ids.ts). List, fetch, rename
// and delete are Twilio's; creating one is Twilio's ValidationRequest (POST OutgoingCallerIds.json),
// which on Twilio calls the number for a code: switchboard has no one to call, so it adds the number
// at once and answers the ValidationRequest's fields with the new caller ID's (docs/rest-api.md).

import type { FastifyInstance, FastifyRequest } from "fastify";
import { addCallerId, removeCallerId, renameCallerId } from "../../admin/caller-ids.js";
import { fail } from "../../errors/switchboard-error.js";
import type { OutgoingCallerIdRecord } from "../../model/records.js";
import { listCallerIds } from "../../store/caller-ids.js";
import { listPath } from "../region-from-host.js";
import type { RestContext } from "./context.js";
import { numberPattern } from "./number-resource.js";
import { listPage, type PageQuery } from "./paging.js";
import { formBody, listOf, listQuery, pathParams, resource, responses, STRING, sid } from "./schemas.js";

const callerIdSchema = resource("OutgoingCallerId", {
  sid: "string",
  account_sid: "string",
  date_created: "string",
  date_updated: "string",
  friendly_name: "string",
  phone_number: "string",
  uri: "string",
});
const validationSchema = resource("ValidationRequest", {
  account_sid: "string",
  call_sid: "string?",
  friendly_name: "string",
  phone_number: "string",
  validation_code: "string?",
});
const instanceParams = pathParams({ AccountSid: sid("AC"), Sid: sid("PN") });

/** Twilio's OutgoingCallerId resource (api.v2010.account.outgoing_caller_id). */
function callerIdResource(accountSid: string, c: OutgoingCallerIdRecord): Record<string, unknown> {
  return {
    ...c,
    uri: `/2010-04-01/Accounts/${accountSid}/OutgoingCallerIds/${c.sid}.json`,
  };
}

export async function outgoingCallerIdRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  const callerIdsOf = (accountSid: string) => listCallerIds(ctx.global.callerIds, accountSid);
  const owned = async (req: FastifyRequest) => {
    const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
    const found = (await callerIdsOf(AccountSid)).find((c) => c.sid === Sid);
    if (!found) throw fail("notFound", `The requested resource ${req.url} was not found`);
    return found;
  };

  app.get(
    "/Accounts/:AccountSid/OutgoingCallerIds.json",
    {
      schema: {
        operationId: "ListOutgoingCallerId",
        summary: "The account's verified caller IDs",
        tags: ["OutgoingCallerIds"],
        params: pathParams({ AccountSid: sid("AC") }),
        querystring: listQuery({ PhoneNumber: STRING, FriendlyName: STRING }),
        response: responses(listOf("outgoing_caller_ids", callerIdSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const q = req.query as PageQuery & { PhoneNumber?: string; FriendlyName?: string };
      const pattern = q.PhoneNumber === undefined ? undefined : numberPattern(q.PhoneNumber);
      const all = (await callerIdsOf(AccountSid)).filter(
        (c) =>
          (pattern === undefined || pattern.test(c.phone_number)) &&
          (q.FriendlyName === undefined || c.friendly_name === q.FriendlyName),
      );
      return listPage(
        {
          path: listPath(req),
          filters: [
            ["PhoneNumber", q.PhoneNumber],
            ["FriendlyName", q.FriendlyName],
          ],
          key: "outgoing_caller_ids",
          query: q,
          idOf: (c: OutgoingCallerIdRecord) => c.sid,
        },
        all,
        (page) => page.map((c) => callerIdResource(AccountSid, c)),
      );
    },
  );

  app.post(
    "/Accounts/:AccountSid/OutgoingCallerIds.json",
    {
      schema: {
        operationId: "CreateValidationRequest",
        summary: "Add a verified caller ID (at once: switchboard places no validation call)",
        tags: ["OutgoingCallerIds"],
        params: pathParams({ AccountSid: sid("AC") }),
        body: formBody(
          { PhoneNumber: { ...STRING, description: "E.164" }, FriendlyName: { ...STRING, maxLength: 64 } },
          ["PhoneNumber"],
        ),
        response: responses(validationSchema, 201),
      },
    },
    async (req, reply) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const body = (req.body ?? {}) as { PhoneNumber?: string; FriendlyName?: string };
      const added = await addCallerId(ctx.global, AccountSid, body.PhoneNumber ?? "", body.FriendlyName);
      // The ValidationRequest's fields (no call, no code), plus the caller ID's own.
      return reply.code(201).send({
        ...callerIdResource(AccountSid, added),
        call_sid: null,
        validation_code: null,
      });
    },
  );

  app.get(
    "/Accounts/:AccountSid/OutgoingCallerIds/:Sid.json",
    {
      schema: {
        operationId: "FetchOutgoingCallerId",
        summary: "One verified caller ID",
        tags: ["OutgoingCallerIds"],
        params: instanceParams,
        response: responses(callerIdSchema),
      },
    },
    async (req) => callerIdResource((req.params as { AccountSid: string }).AccountSid, await owned(req)),
  );

  app.post(
    "/Accounts/:AccountSid/OutgoingCallerIds/:Sid.json",
    {
      schema: {
        operationId: "UpdateOutgoingCallerId",
        summary: "Rename a verified caller ID",
        tags: ["OutgoingCallerIds"],
        params: instanceParams,
        body: formBody({ FriendlyName: { ...STRING, maxLength: 64 } }),
        response: responses(callerIdSchema),
      },
    },
    async (req) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      const found = await owned(req);
      const name = (req.body as { FriendlyName?: string } | undefined)?.FriendlyName;
      if (name === undefined) return callerIdResource(AccountSid, found);
      return callerIdResource(AccountSid, await renameCallerId(ctx.global, AccountSid, Sid, name));
    },
  );

  app.delete(
    "/Accounts/:AccountSid/OutgoingCallerIds/:Sid.json",
    {
      schema: {
        operationId: "DeleteOutgoingCallerId",
        summary: "Remove a verified caller ID",
        tags: ["OutgoingCallerIds"],
        params: instanceParams,
        response: responses(null, 204),
      },
    },
    async (req, reply) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      await owned(req);
      await removeCallerId(ctx.global, AccountSid, Sid);
      return reply.code(204).send();
    },
  );
}
