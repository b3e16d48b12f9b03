// IncomingPhoneNumbers: the numbers an account has in the request's region (`sb_numbers_<r>`,
// written through src/admin/numbers.ts, as `switchboard numbers add` does). A region holds few
// numbers next to its calls, so the list reads the region's numbers and keeps the account's.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { addNumber } from "../../admin/numbers.js";
import { fail } from "../../errors/switchboard-error.js";
import { isE164, numberKey } from "../../model/phone.js";
import type { NumberConfig } from "../../model/records.js";
import { listPath, regionOf } from "../region-from-host.js";
import type { RestContext } from "./context.js";
import { incomingPhoneNumber, numberPattern, numberSchema } from "./number-resource.js";
import { listPage, type PageQuery } from "./paging.js";
import { listKeys, orIfMissing } from "./region-buckets.js";
import { regionExists } from "./regions.js";
import { formBody, HTTP_METHOD, listOf, listQuery, pathParams, responses, STRING, sid } from "./schemas.js";

const instanceParams = pathParams({ AccountSid: sid("AC"), Sid: sid("PN") });
const configBody = {
  FriendlyName: { ...STRING, maxLength: 64 },
  VoiceUrl: STRING,
  VoiceMethod: HTTP_METHOD,
  VoiceFallbackUrl: STRING,
  VoiceFallbackMethod: HTTP_METHOD,
  StatusCallback: STRING,
  StatusCallbackMethod: HTTP_METHOD,
  // Read only to be refused: each overrides the voice URLs on Twilio, and switchboard has neither
  // Applications nor trunks that take a number's calls. Dropped silently, the calls would go to the
  // VoiceUrl instead.
  VoiceApplicationSid: STRING,
  TrunkSid: STRING,
  // Refused when true: switchboard looks up no caller names (no CallerName on the webhook).
  VoiceCallerIdLookup: STRING,
};
const UNSUPPORTED_CONFIG = ["VoiceApplicationSid", "TrunkSid"] as const;

interface NumberBody {
  PhoneNumber?: string;
  VoiceCallerIdLookup?: string;
  FriendlyName?: string;
  VoiceUrl?: string;
  VoiceMethod?: string;
  VoiceFallbackUrl?: string;
  VoiceFallbackMethod?: string;
  StatusCallback?: string;
  StatusCallbackMethod?: string;
  VoiceApplicationSid?: string;
  TrunkSid?: string;
}

export async function numberRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  /** The account's numbers in the request's region, by number. */
  const numbersOf = async (region: string, accountSid: string) => {
    const kv = await ctx.buckets.numbers(region);
    const configs = await Promise.all(
      (await listKeys(kv.kv)).map((key) => orIfMissing(() => kv.get(key), undefined)),
    );
    return configs
      .filter((c): c is NumberConfig => c?.account_sid === accountSid)
      .sort((a, b) => (a.phone_number < b.phone_number ? -1 : 1));
  };
  const owned = async (req: FastifyRequest) => {
    const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
    const region = regionOf(req);
    const config = (await numbersOf(region, AccountSid)).find((c) => c.sid === Sid);
    if (!config) throw fail("notFound", `The requested resource ${req.url} was not found`);
    return { region, config };
  };
  /** Stores a number's config in the region, as `switchboard numbers add` does. */
  const save = async (
    region: string,
    accountSid: string,
    number: string,
    body: NumberBody,
    base?: NumberConfig,
  ) => {
    const unsupported = UNSUPPORTED_CONFIG.find((name) => body[name] !== undefined && body[name] !== "");
    if (unsupported)
      throw fail("invalidParameter", `switchboard does not support ${unsupported} on a number`);
    if (body.VoiceCallerIdLookup?.toLowerCase() === "true")
      throw fail(
        "invalidParameter",
        "switchboard does not support VoiceCallerIdLookup (CallerName) on a number",
      );
    if (!(await regionExists(ctx.buckets, region))) {
      throw fail("invalidParameter", `region ${region} has no call stream: no region worker has run there`);
    }
    const voiceUrl = body.VoiceUrl ?? base?.voice_url ?? undefined;
    if (!voiceUrl)
      throw fail("noVoiceUrl", "VoiceUrl is required: switchboard answers a number's calls by it");
    const pick = (given: string | undefined, kept: string | null | undefined) => given ?? kept ?? undefined;
    const fallbackUrl = pick(body.VoiceFallbackUrl, base?.voice_fallback_url);
    const statusCallback = pick(body.StatusCallback, base?.status_callback);
    const { config } = await addNumber(ctx.nc, ctx.global, {
      number,
      region,
      accountSid,
      voiceUrl,
      voiceMethod: pick(body.VoiceMethod, base?.voice_method),
      ...(fallbackUrl && { fallbackUrl }),
      fallbackMethod: pick(body.VoiceFallbackMethod, base?.voice_fallback_method),
      ...(statusCallback && { statusCallback }),
      statusCallbackMethod: pick(body.StatusCallbackMethod, base?.status_callback_method),
      ...(body.FriendlyName !== undefined && { friendlyName: body.FriendlyName }),
    });
    return config;
  };

  app.get(
    "/Accounts/:AccountSid/IncomingPhoneNumbers.json",
    {
      schema: {
        operationId: "ListIncomingPhoneNumber",
        summary: "The account's numbers in the request's region",
        tags: ["IncomingPhoneNumbers"],
        params: pathParams({ AccountSid: sid("AC") }),
        querystring: listQuery({
          PhoneNumber: { ...STRING, description: "All or part of the number; '*' matches any digit" },
          FriendlyName: STRING,
          Beta: { type: "boolean" },
          Origin: STRING,
        }),
        response: responses(listOf("incoming_phone_numbers", numberSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const q = req.query as PageQuery & { PhoneNumber?: string; FriendlyName?: string; Origin?: string };
      const pattern = q.PhoneNumber === undefined ? undefined : numberPattern(q.PhoneNumber);
      const all = (await numbersOf(regionOf(req), AccountSid)).filter(
        (c) =>
          (pattern === undefined || pattern.test(c.phone_number)) &&
          (q.FriendlyName === undefined || c.friendly_name === q.FriendlyName) &&
          (q.Origin === undefined || q.Origin === "hosted"),
      );
      return listPage(
        {
          path: listPath(req),
          filters: [
            ["PhoneNumber", q.PhoneNumber],
            ["FriendlyName", q.FriendlyName],
            ["Origin", q.Origin],
          ],
          key: "incoming_phone_numbers",
          query: q,
          idOf: (c: NumberConfig) => c.sid,
        },
        all,
        (page) => page.map(incomingPhoneNumber),
      );
    },
  );

  app.post(
    "/Accounts/:AccountSid/IncomingPhoneNumbers.json",
    {
      schema: {
        operationId: "CreateIncomingPhoneNumber",
        summary: "Add a number to the request's region (and route it there if it has no route)",
        tags: ["IncomingPhoneNumbers"],
        params: pathParams({ AccountSid: sid("AC") }),
        body: formBody({ PhoneNumber: { ...STRING, description: "E.164" }, ...configBody }, ["PhoneNumber"]),
        response: responses(numberSchema, 201),
      },
    },
    async (req, reply) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const body = (req.body ?? {}) as NumberBody;
      const number = body.PhoneNumber ?? "";
      if (!isE164(number)) throw fail("phoneNumberInvalid", `PhoneNumber ${number} is not an E.164 number`);
      const region = regionOf(req);
      const existing = await orIfMissing(
        async () => (await ctx.buckets.numbers(region)).get(numberKey(number)),
        undefined,
      );
      if (existing && existing.account_sid !== AccountSid) {
        throw fail("phoneNumberUnavailable", `PhoneNumber ${number} belongs to another account in ${region}`);
      }
      const config = await save(region, AccountSid, number, body, existing);
      return reply.code(201).send(incomingPhoneNumber(config));
    },
  );

  app.get(
    "/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json",
    {
      schema: {
        operationId: "FetchIncomingPhoneNumber",
        summary: "One of the account's numbers",
        tags: ["IncomingPhoneNumbers"],
        params: instanceParams,
        response: responses(numberSchema),
      },
    },
    async (req) => incomingPhoneNumber((await owned(req)).config),
  );

  app.post(
    "/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json",
    {
      schema: {
        operationId: "UpdateIncomingPhoneNumber",
        summary: "Change a number's voice configuration",
        tags: ["IncomingPhoneNumbers"],
        params: instanceParams,
        body: formBody(configBody),
        response: responses(numberSchema),
      },
    },
    async (req) => {
      const { region, config } = await owned(req);
      const saved = await save(
        region,
        config.account_sid,
        config.phone_number,
        (req.body ?? {}) as NumberBody,
        config,
      );
      return incomingPhoneNumber(saved);
    },
  );

  app.delete(
    "/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json",
    {
      schema: {
        operationId: "DeleteIncomingPhoneNumber",
        summary: "Release a number: its config in the region, and its route if it pointed there",
        tags: ["IncomingPhoneNumbers"],
        params: instanceParams,
        response: responses(null, 204),
      },
    },
    async (req, reply) => {
      const { region, config } = await owned(req);
      const key = numberKey(config.phone_number);
      await (await ctx.buckets.numbers(region)).delete(key);
      const route = await ctx.global.routing.get(key);
      if (route?.region === region && (route.accountSid ?? config.account_sid) === config.account_sid) {
        await ctx.global.routing.delete(key);
      }
      return reply.code(204).send();
    },
  );
}
