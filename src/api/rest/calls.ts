// Calls: the list (answered from the call index, never by reading every stored call, and from the
// region's live calls, which the index names only once they end) and one call.
import type { FastifyInstance } from "fastify";
import { CALL_STATUSES, type CallResource } from "../../model/records.js";
import {
  type CallIndexEntry,
  type CallIndexFilter,
  callIndexFilter,
  parseCallIndexKey,
  utcDay,
} from "../../store/call-index.js";
import { listPath, regionOf } from "../region-from-host.js";
import { ownedCall } from "./call-lookup.js";
import type { RestContext } from "./context.js";
import { liveCallsFor } from "./live-calls.js";
import { listPage, type PageQuery } from "./paging.js";
import { dateFilter, instantOf, optionalInstant } from "./query-dates.js";
import { listKeys, orIfMissing } from "./region-buckets.js";
import { listOf, listQuery, pathParams, resource, responses, STRING, sid } from "./schemas.js";

export const callSchema = resource("Call", {
  sid: "string",
  date_created: "string?",
  date_updated: "string?",
  parent_call_sid: "string?",
  account_sid: "string",
  to: "string",
  to_formatted: "string",
  from: "string",
  from_formatted: "string",
  phone_number_sid: "string?",
  status: "string",
  start_time: "string?",
  end_time: "string?",
  duration: "string?",
  price: "string?",
  price_unit: "string?",
  direction: "string",
  answered_by: "string?",
  api_version: "string",
  forwarded_from: "string?",
  group_sid: "string?",
  caller_name: "string?",
  queue_time: "string?",
  trunk_sid: "string?",
  uri: "string",
  subresource_uris: "object",
  error_code: "integer?",
  error_message: "string?",
});

/** The list filters, in the order the page URIs repeat them. */
const FILTERS = [
  "To",
  "From",
  "Status",
  "StartTime",
  "StartTime>",
  "StartTime<",
  "ParentCallSid",
  "EndTime",
  "EndTime>",
  "EndTime<",
] as const;

type CallsQuery = PageQuery & Partial<Record<(typeof FILTERS)[number], string>> & Record<string, unknown>;

export const accountParams = pathParams({ AccountSid: sid("AC") });
export const callParams = pathParams({ AccountSid: sid("AC"), CallSid: sid("CA") });

export async function callRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  app.get(
    "/Accounts/:AccountSid/Calls.json",
    {
      schema: {
        operationId: "ListCall",
        summary: "The account's calls in the request's region, newest first",
        tags: ["Calls"],
        params: accountParams,
        querystring: listQuery({
          To: STRING,
          From: STRING,
          Status: { type: "string", enum: [...CALL_STATUSES] },
          StartTime: { type: "string", description: "YYYY-MM-DD (UTC): calls that started that day" },
          "StartTime>": { type: "string", description: "Calls that started on or after this date/time" },
          "StartTime<": { type: "string", description: "Calls that started before this date/time" },
          ParentCallSid: sid("CA"),
          EndTime: { type: "string", description: "YYYY-MM-DD (UTC): calls that ended that day" },
          "EndTime>": { type: "string", description: "Calls that ended on or after this date/time" },
          "EndTime<": { type: "string", description: "Calls that ended before this date/time" },
        }),
        response: responses(listOf("calls", callSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const q = req.query as CallsQuery;
      const region = regionOf(req);
      const ended = dateFilter(q, "EndTime");
      const after = optionalInstant(q["StartTime>"], "StartTime>");
      const before = optionalInstant(q["StartTime<"], "StartTime<");
      const filter: CallIndexFilter = {
        accountSid: AccountSid,
        ...(q.StartTime !== undefined && { day: utcDay(instantOf(q.StartTime, "StartTime")) }),
        ...(q.Status !== undefined && { status: q.Status }),
        ...(q.To !== undefined && { to: q.To }),
        ...(q.From !== undefined && { from: q.From }),
        ...(q.ParentCallSid !== undefined && { parentCallSid: q.ParentCallSid }),
      };
      const index = await ctx.buckets.callIndex(region);
      const [indexed, live] = await Promise.all([
        listKeys(index, callIndexFilter(filter)),
        // A live call has not ended: an EndTime filter keeps none.
        ended ? [] : liveCallsFor(ctx.buckets, region, filter),
      ]);
      const stored = indexed.map(parseCallIndexKey).filter((e): e is CallIndexEntry => e !== undefined);
      // A call that ended between the two reads is in both: its index entry stands.
      const storedSids = new Set(stored.map((e) => e.callSid));
      const running = live.filter((l) => !storedSids.has(l.entry.callSid));
      const liveCalls = new Map(running.map((l) => [l.entry.callSid, l.call]));
      const entries = [...stored, ...running.map((l) => l.entry)]
        .filter(
          (e) =>
            (after === undefined || e.startedAt >= after) && (before === undefined || e.startedAt < before),
        )
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const calls = await ctx.buckets.calls(region);
      const listed = ended ? await endedWithin(calls, entries, ended) : entries;
      return listPage(
        {
          path: listPath(req),
          filters: FILTERS.map((name) => [name, q[name]] as const),
          key: "calls",
          query: q,
          // Day, time and CallSid: what the list is sorted by, and the same for a call once it
          // ends, so a page token stays good when its live call ends before the next page.
          idOf: (e: CallIndexEntry) => e.key.split(".").slice(1, 4).join("."),
          ordered: /^\d{8}\.\d{6}\.CA[0-9a-f]{32}$/,
        },
        listed,
        async (page) => {
          // A live call is shown as it is now; one that has ended since, as stored.
          const records = await Promise.all(
            page.map(
              async (e) =>
                (await orIfMissing(() => calls.get(e.callSid), undefined)) ?? liveCalls.get(e.callSid),
            ),
          );
          return records.filter((r): r is CallResource => r !== undefined);
        },
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Calls/:CallSid.json",
    {
      schema: {
        operationId: "FetchCall",
        summary: "One call: its stored record once ended, else the live call as it is now",
        tags: ["Calls"],
        params: callParams,
        response: responses(callSchema),
      },
    },
    async (req) => {
      const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
      const region = regionOf(req);
      return (await ownedCall(ctx.buckets, region, AccountSid, CallSid, req.url)).call;
    },
  );
}

/**
 * The entries whose call ended where `ended` says. The index does not know when a call ended, so each
 * candidate's record is read: a list with EndTime costs a read per call its other filters leave.
 */
async function endedWithin(
  calls: Awaited<ReturnType<RestContext["buckets"]["calls"]>>,
  entries: CallIndexEntry[],
  ended: (ms: number) => boolean,
): Promise<CallIndexEntry[]> {
  const records = await Promise.all(entries.map((e) => orIfMissing(() => calls.get(e.callSid), undefined)));
  return entries.filter((_, i) => {
    const end = records[i]?.end_time;
    return end != null && ended(Date.parse(end));
  });
}
