// Routes v2 (`/v2/PhoneNumbers/{PhoneNumber}`): a number's Inbound Processing Region, i.e. its
// entry in the global routing table `sb_routing`. No entry means no explicit route (calls go to
// us1), which GET answers with 404, as Twilio does. An account sees and changes only its numbers.
import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { routeNumber } from "../../admin/numbers.js";
import { fail } from "../../errors/switchboard-error.js";
import { isE164, numberKey } from "../../model/phone.js";
import type { RoutingEntry } from "../../model/records.js";
import { NAME_PATTERN } from "../../protocol/subjects.js";
import { accountOf } from "./auth-hook.js";
import type { RestContext } from "./context.js";
import { orIfMissing } from "./region-buckets.js";
import { regionExists } from "./regions.js";
import { formBody, pathParams, resource, responses, STRING } from "./schemas.js";

/** Where calls to a number with no route go (DESIGN.md §3). */
const DEFAULT_REGION = "us1";

const phoneNumberSchema = resource("RoutesPhoneNumber", {
  phone_number: "string",
  url: "string",
  sid: "string",
  account_sid: "string?",
  friendly_name: "string?",
  voice_region: "string",
  date_created: "string",
  date_updated: "string",
});

const params = pathParams({ PhoneNumber: { ...STRING, description: "E.164" } });

export async function routesV2Routes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  /** The account that owns the number in `region`, per that region's number config. */
  const configOwner = async (region: string, number: string) =>
    orIfMissing(
      async () => (await (await ctx.buckets.numbers(region)).get(numberKey(number)))?.account_sid,
      undefined,
    );
  const ownerOf = async (entry: RoutingEntry, number: string) =>
    entry.accountSid ?? (await configOwner(entry.region, number));
  const numberOf = (req: FastifyRequest) => {
    const { PhoneNumber } = req.params as { PhoneNumber: string };
    if (!isE164(PhoneNumber))
      throw fail("phoneNumberInvalid", `PhoneNumber ${PhoneNumber} is not an E.164 number`);
    return PhoneNumber;
  };
  const gone = (req: FastifyRequest) => fail("notFound", `The requested resource ${req.url} was not found`);

  app.get(
    "/PhoneNumbers/:PhoneNumber",
    {
      schema: {
        operationId: "FetchPhoneNumber",
        summary: "A number's Inbound Processing Region; 404 when it has no explicit route",
        tags: ["Routes"],
        params,
        response: responses(phoneNumberSchema),
      },
    },
    async (req) => {
      const number = numberOf(req);
      const entry = await ctx.global.routing.get(numberKey(number));
      if (!entry || (await ownerOf(entry, number)) !== accountOf(req).sid) throw gone(req);
      return phoneNumberResource(ctx.publicUrl(), number, entry, accountOf(req).sid);
    },
  );

  app.post(
    "/PhoneNumbers/:PhoneNumber",
    {
      schema: {
        operationId: "UpdatePhoneNumber",
        summary: "Assign a number's Inbound Processing Region (VoiceRegion) or FriendlyName",
        tags: ["Routes"],
        params,
        body: formBody({ VoiceRegion: STRING, FriendlyName: { ...STRING, maxLength: 64 } }),
        response: responses(phoneNumberSchema),
      },
    },
    async (req) => {
      const number = numberOf(req);
      const account = accountOf(req).sid;
      const body = (req.body ?? {}) as { VoiceRegion?: string; FriendlyName?: string };
      const key = numberKey(number);
      const existing = await ctx.global.routing.get(key);
      // With no route yet, the account must have the number where its calls go now, or will go.
      const owner = existing
        ? await ownerOf(existing, number)
        : ((await configOwner(DEFAULT_REGION, number)) ??
          (body.VoiceRegion && NAME_PATTERN.test(body.VoiceRegion)
            ? await configOwner(body.VoiceRegion, number)
            : undefined));
      if (owner !== account) throw gone(req);
      if (body.VoiceRegion !== undefined) {
        const known =
          NAME_PATTERN.test(body.VoiceRegion) && (await regionExists(ctx.buckets, body.VoiceRegion));
        if (!known)
          throw fail(
            "invalidParameter",
            `VoiceRegion ${body.VoiceRegion} is not a region of this deployment`,
          );
      }
      const routed = body.VoiceRegion ? await routeNumber(ctx.global, number, body.VoiceRegion) : existing;
      const entry: RoutingEntry = {
        region: DEFAULT_REGION,
        friendlyName: number,
        ...routed,
        ...(body.FriendlyName !== undefined && { friendlyName: body.FriendlyName }),
        dateUpdated: routed?.dateUpdated ?? new Date().toISOString(),
        accountSid: account,
      };
      if (!routed || body.FriendlyName !== undefined || routed.accountSid !== account) {
        await ctx.global.routing.put(key, entry);
      }
      return phoneNumberResource(ctx.publicUrl(), number, entry, account);
    },
  );
}

function phoneNumberResource(publicUrl: string, number: string, entry: RoutingEntry, accountSid: string) {
  const date = entry.dateUpdated;
  return {
    phone_number: number,
    url: `${publicUrl}/v2/PhoneNumbers/${number}`,
    // The routing table keeps no sid; this one is stable per number.
    sid: `QQ${createHash("sha256").update(numberKey(number)).digest("hex").slice(0, 32)}`,
    account_sid: accountSid,
    friendly_name: entry.friendlyName,
    voice_region: entry.region,
    date_created: (entry as { dateCreated?: string }).dateCreated ?? date,
    date_updated: date,
  };
}
