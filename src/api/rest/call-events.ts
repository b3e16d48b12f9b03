// Calls/{Sid}/Events.json, Twilio's request inspector: each HTTP request the call made and the
// response it got, read from the region's inspection stream (`SB_INSPECT_<R>`, subject
// `sb.region.<r>.inspect.<CallSid>`, kept for a day) through a short-lived filtered consumer.
import { AckPolicy, DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { rfc2822 } from "../../model/dates.js";
import { type InspectEvent, inspectEnvelopes } from "../../protocol/inspect.js";
import { streams, subjects } from "../../protocol/subjects.js";
import { listPath, regionOf } from "../region-from-host.js";
import { ownedCall } from "./call-lookup.js";
import { callParams } from "./calls.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { isMissingStream, type RegionBuckets } from "./region-buckets.js";
import { listOf, listQuery, resource, responses } from "./schemas.js";

/** A call's inspection events read at most (a call's whole life is far fewer). */
const MAX_EVENTS = 10_000;

export interface CallEvent {
  request: { method: string; url: string; parameters: Record<string, string>; date_created: string };
  response: {
    response_code: number;
    request_duration: number;
    content_type: string | null;
    response_body: string | null;
    date_created: string;
  } | null;
}

const eventSchema = resource("CallEvent", { request: "object?", response: "object?" });

export async function callEventRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  app.get(
    "/Accounts/:AccountSid/Calls/:CallSid/Events.json",
    {
      schema: {
        operationId: "ListCallEvent",
        summary: "Each webhook request the call made and the response it got, oldest first",
        tags: ["Calls"],
        params: callParams,
        querystring: listQuery(),
        response: responses(listOf("events", eventSchema)),
      },
    },
    async (req) => {
      const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
      const region = regionOf(req);
      await ownedCall(ctx.buckets, region, AccountSid, CallSid, req.url);
      const events = webhookExchanges(await inspectionEvents(ctx.buckets, region, CallSid));
      return listPage(
        {
          path: listPath(req),
          key: "events",
          query: req.query as PageQuery,
          idOf: (e: { i: number }) => String(e.i),
        },
        events.map((event, i) => ({ i, event })),
        (page) => page.map((e) => e.event),
      );
    },
  );
}

/** Pairs each webhook request with the response that followed it (null when none came). */
export function webhookExchanges(events: Array<InspectEvent & { at: number }>): CallEvent[] {
  const out: CallEvent[] = [];
  let open: CallEvent | undefined;
  for (const e of events) {
    if (e.type === "webhook.request") {
      open = {
        request: { method: e.method, url: e.url, parameters: e.params, date_created: rfc2822(e.at) },
        response: null,
      };
      out.push(open);
    } else if (e.type === "webhook.response" && open) {
      open.response = {
        response_code: e.status,
        request_duration: Math.round(e.durationMs),
        content_type: e.contentType ?? null,
        response_body: e.body ?? null,
        date_created: rfc2822(e.at),
      };
      open = undefined;
    } else if (e.type === "webhook.error" && open && e.httpStatus !== undefined) {
      // An error status is still a response (Twilio lists it); a timeout or a refused connection
      // got none, and its request keeps `response: null`.
      open.response = {
        response_code: e.httpStatus,
        request_duration: Math.round(e.durationMs),
        content_type: e.response?.contentType ?? null,
        // What the app answered with its error (the first 64 KB), as Twilio's debugger shows it.
        response_body: e.response?.body ?? null,
        date_created: rfc2822(e.at),
      };
      open = undefined;
    }
  }
  return out;
}

async function inspectionEvents(
  b: RegionBuckets,
  region: string,
  callSid: string,
): Promise<Array<InspectEvent & { at: number }>> {
  const jsm = await b.jsm();
  const stream = streams.inspect(region);
  let info: Awaited<ReturnType<typeof jsm.consumers.add>>;
  try {
    info = await jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjects().inspect(region, callSid),
      // Removed by the server if this request dies before deleting it.
      inactive_threshold: nanos(30_000),
    });
  } catch (err) {
    if (isMissingStream(err)) return [];
    throw err;
  }
  try {
    // Messages, each a batch of events.
    const wanted = Math.min(info.num_pending, MAX_EVENTS);
    if (wanted === 0) return [];
    const consumer = await jetstream(b.nc).consumers.get(stream, info.name);
    const events: Array<InspectEvent & { at: number }> = [];
    let read = 0;
    for await (const m of await consumer.fetch({ max_messages: wanted, expires: 5_000 })) {
      try {
        events.push(...inspectEnvelopes(m.data));
      } catch {
        // An undecodable message is skipped; the rest of the call's history still reads.
      }
      if (++read >= wanted || events.length >= MAX_EVENTS) break;
    }
    return events.slice(0, MAX_EVENTS);
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => {});
  }
}
