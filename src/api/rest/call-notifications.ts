// Calls/{Sid}/Notifications: the errors and warnings recorded against a call, from
// `sb_notifications_<r>` (keys `<CallSid>.<ms>_<NotificationSid>`: a server-side key filter).
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { listNotifications, type NotificationRecord } from "../../store/notifications.js";
import { listPath, regionOf } from "../region-from-host.js";
import { ownedCall } from "./call-lookup.js";
import { callParams } from "./calls.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { dateFilter } from "./query-dates.js";
import { orIfMissing } from "./region-buckets.js";
import { listOf, listQuery, pathParams, resource, responses, STRING, sid } from "./schemas.js";

const notificationSchema = resource("Notification", {
  sid: "string",
  account_sid: "string",
  call_sid: "string",
  api_version: "string",
  date_created: "string",
  date_updated: "string",
  error_code: "string",
  log: "string",
  message_date: "string",
  message_text: "string",
  more_info: "string",
  request_method: "string",
  request_url: "string?",
  request_variables: "string?",
  response_body: "string?",
  response_headers: "string?",
  uri: "string",
});

/** Twilio's date filters on a call's notifications. */
const DATES = ["MessageDate", "MessageDate>", "MessageDate<"] as const;

export async function callNotificationRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  const notificationsOf = async (region: string, callSid: string) => {
    const kv = await ctx.buckets.notifications(region);
    return (await orIfMissing(() => listNotifications(kv, callSid), [])).map(asTwilio);
  };

  app.get(
    "/Accounts/:AccountSid/Calls/:CallSid/Notifications.json",
    {
      schema: {
        operationId: "ListCallNotification",
        summary: "The errors and warnings of a call, oldest first",
        tags: ["Calls"],
        params: callParams,
        querystring: listQuery({
          Log: { type: "integer", enum: [0, 1] },
          MessageDate: { ...STRING, description: "YYYY-MM-DD (UTC)" },
          "MessageDate>": STRING,
          "MessageDate<": STRING,
        }),
        response: responses(listOf("notifications", notificationSchema)),
      },
    },
    async (req) => {
      const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
      const q = req.query as PageQuery & { Log?: number } & Partial<Record<(typeof DATES)[number], string>>;
      const region = regionOf(req);
      const dated = dateFilter(q, "MessageDate");
      await ownedCall(ctx.buckets, region, AccountSid, CallSid, req.url);
      const all = (await notificationsOf(region, CallSid)).filter(
        (n) =>
          (q.Log === undefined || n.log === String(q.Log)) &&
          (dated === undefined || dated(Date.parse(n.message_date))),
      );
      return listPage(
        {
          path: listPath(req),
          filters: [
            ["Log", q.Log === undefined ? undefined : String(q.Log)],
            ...DATES.map((name) => [name, q[name]] as const),
          ],
          key: "notifications",
          query: q,
          idOf: (n: NotificationRecord) => n.sid,
        },
        all,
        (page) => page,
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Calls/:CallSid/Notifications/:Sid.json",
    {
      schema: {
        operationId: "FetchCallNotification",
        summary: "One error or warning of a call",
        tags: ["Calls"],
        params: pathParams({ AccountSid: sid("AC"), CallSid: sid("CA"), Sid: sid("NO") }),
        response: responses(notificationSchema),
      },
    },
    async (req) => {
      const { AccountSid, CallSid, Sid } = req.params as { AccountSid: string; CallSid: string; Sid: string };
      const region = regionOf(req);
      await ownedCall(ctx.buckets, region, AccountSid, CallSid, req.url);
      const found = (await notificationsOf(region, CallSid)).find((n) => n.sid === Sid);
      if (!found) throw fail("notFound", `The requested resource ${req.url} was not found`);
      return found;
    },
  );
}

/**
 * Twilio's schema makes `request_method` an enum (GET/POST) without null, so a notification that
 * came from no request leaves the field out rather than sending null.
 */
function asTwilio(n: NotificationRecord): NotificationRecord {
  if (n.request_method === "GET" || n.request_method === "POST") return n;
  const { request_method: _omitted, ...rest } = n;
  return rest as NotificationRecord;
}
