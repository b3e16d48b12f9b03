// Recordings: the account's list, one recording, its media (.wav, .mp3), and a call's recordings, from
// object store `sb_recordings_<r>` (recording-objects.ts). A region with no store yet, or with no
// recordings, lists an empty page.
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { wavToMp3 } from "../../media/mp3.js";
import {
  callRecordingResource,
  conferenceRecordingResource,
  recordingFromInfo,
  recordingResource,
  type StoredRecording,
} from "../../store/recording-objects.js";
import { listPath, regionApiUrl, regionOf } from "../region-from-host.js";
import { ownedCall } from "./call-lookup.js";
import { callParams } from "./calls.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { dateFilter } from "./query-dates.js";
import { described, listOf, listQuery, pathParams, resource, responses, STRING, sid } from "./schemas.js";

const recordingSchema = resource("Recording", {
  sid: "string",
  account_sid: "string",
  call_sid: "string",
  conference_sid: "string?",
  api_version: "string",
  date_created: "string",
  date_updated: "string",
  start_time: "string",
  duration: "string",
  price: "string?",
  price_unit: "string",
  status: "string",
  channels: "integer",
  source: "string",
  error_code: "integer?",
  uri: "string",
  media_url: "string",
});

const recordingParams = pathParams({ AccountSid: sid("AC"), Sid: sid("RE") });
const FILTERS = ["CallSid", "ConferenceSid", "DateCreated", "DateCreated>", "DateCreated<"] as const;
type RecordingsQuery = PageQuery & Partial<Record<(typeof FILTERS)[number], string>>;

/** The account's recordings in `region`, newest first. */
export async function accountRecordings(ctx: RestContext, region: string, accountSid: string) {
  const os = await ctx.buckets.recordings(region);
  const infos = os ? await os.list() : [];
  return infos
    .map(recordingFromInfo)
    .filter((r): r is StoredRecording => r?.accountSid === accountSid)
    .sort((a, b) => b.dateCreated - a.dateCreated || (a.sid < b.sid ? -1 : 1));
}

export async function findRecording(
  ctx: RestContext,
  req: FastifyRequest,
  accountSid: string,
  recordingSid: string,
) {
  const os = await ctx.buckets.recordings(regionOf(req));
  const info = os ? await os.info(recordingSid) : null;
  const recording = info ? recordingFromInfo(info) : null;
  if (recording?.accountSid !== accountSid) {
    throw fail("notFound", `The requested resource ${req.url.split("?")[0]} was not found`);
  }
  return { os, recording };
}

/** The date filters a call's or a conference's recordings take (Twilio's, as for the account's). */
const DATE_FILTERS = ["DateCreated", "DateCreated>", "DateCreated<"] as const;
const dateQuery = {
  DateCreated: { ...STRING, description: "YYYY-MM-DD (UTC)" },
  "DateCreated>": STRING,
  "DateCreated<": STRING,
};

/** A page of a call's or a conference's recordings (filtered by date), each as that subresource. */
function recordingsPage(
  req: FastifyRequest,
  all: StoredRecording[],
  resource: (r: StoredRecording) => Record<string, unknown>,
) {
  const q = req.query as RecordingsQuery;
  const created = dateFilter(q, "DateCreated");
  return listPage(
    {
      path: listPath(req),
      filters: DATE_FILTERS.map((name) => [name, q[name]] as const),
      key: "recordings",
      query: q,
      idOf: (r: StoredRecording) => r.sid,
    },
    created ? all.filter((r) => created(r.dateCreated)) : all,
    (page) => page.map(resource),
  );
}

export async function recordingRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  // The region's recordings at the api as apps reach it (a region other than us1 in the path).
  const base = (req: FastifyRequest) => regionApiUrl(ctx.publicUrl(), regionOf(req));

  app.get(
    "/Accounts/:AccountSid/Recordings.json",
    {
      schema: {
        operationId: "ListRecording",
        summary: "The account's recordings in the request's region, newest first",
        tags: ["Recordings"],
        params: pathParams({ AccountSid: sid("AC") }),
        querystring: listQuery({
          CallSid: sid("CA"),
          ConferenceSid: sid("CF"),
          DateCreated: { ...STRING, description: "YYYY-MM-DD (UTC)" },
          "DateCreated>": STRING,
          "DateCreated<": STRING,
        }),
        response: responses(listOf("recordings", recordingSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const q = req.query as RecordingsQuery;
      const created = dateFilter(q, "DateCreated");
      const all = (await accountRecordings(ctx, regionOf(req), AccountSid)).filter(
        (r) =>
          (q.CallSid === undefined || r.callSid === q.CallSid) &&
          (q.ConferenceSid === undefined || r.conferenceSid === q.ConferenceSid) &&
          (created === undefined || created(r.dateCreated)),
      );
      return listPage(
        {
          path: listPath(req),
          filters: FILTERS.map((name) => [name, q[name]] as const),
          key: "recordings",
          query: q,
          idOf: (r: StoredRecording) => r.sid,
        },
        all,
        (page) => page.map((r) => recordingResource(r, base(req))),
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Recordings/:Sid.json",
    {
      schema: {
        operationId: "FetchRecording",
        summary: "One recording",
        tags: ["Recordings"],
        params: recordingParams,
        response: responses(recordingSchema),
      },
    },
    async (req) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      return recordingResource((await findRecording(ctx, req, AccountSid, Sid)).recording, base(req));
    },
  );

  // The media: `media_url` has no extension and gives the WAV, as Twilio's does; `.wav` says so and
  // `.mp3` encodes it. Without Basic auth unless the account enforces it (auth-hook.ts, `media`).
  const MEDIA = [
    { path: "/Accounts/:AccountSid/Recordings/:Sid.wav", operationId: "FetchRecordingWav", mp3: false },
    { path: "/Accounts/:AccountSid/Recordings/:Sid.mp3", operationId: "FetchRecordingMp3", mp3: true },
    { path: "/Accounts/:AccountSid/Recordings/:Sid", operationId: "FetchRecordingMedia", mp3: false },
  ];
  for (const { path, operationId, mp3 } of MEDIA) {
    const type = mp3 ? "audio/mpeg" : "audio/x-wav";
    app.get(
      path,
      {
        config: { media: true },
        schema: {
          operationId,
          summary: `The recording's audio, ${type}`,
          tags: ["Recordings"],
          params: recordingParams,
          produces: [type],
          response: { 200: described({ type: "string", format: "binary" }, "Media") },
        },
      },
      async (req, reply) => {
        const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
        const { os } = await findRecording(ctx, req, AccountSid, Sid);
        const media = await os?.get(Sid);
        if (!media) throw fail("notFound", `The requested resource ${req.url} was not found`);
        if (mp3) {
          const encoded = await wavToMp3(new Uint8Array(await new Response(media.data).arrayBuffer()));
          return reply.type(type).header("Content-Length", encoded.length).send(encoded);
        }
        reply.type(type).header("Content-Length", media.info.size);
        return reply.send(Readable.fromWeb(media.data as WebReadableStream<Uint8Array>));
      },
    );
  }

  app.get(
    "/Accounts/:AccountSid/Calls/:CallSid/Recordings.json",
    {
      schema: {
        operationId: "ListCallRecording",
        summary: "A call's recordings, newest first",
        tags: ["Calls"],
        params: callParams,
        querystring: listQuery(dateQuery),
        response: responses(listOf("recordings", recordingSchema)),
      },
    },
    async (req) => {
      const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
      const region = regionOf(req);
      await ownedCall(ctx.buckets, region, AccountSid, CallSid, req.url);
      const all = (await accountRecordings(ctx, region, AccountSid)).filter((r) => r.callSid === CallSid);
      return recordingsPage(req, all, callRecordingResource);
    },
  );

  // A conference's recordings: those its record-from-start participant stored (source Conference).
  app.get(
    "/Accounts/:AccountSid/Conferences/:ConferenceSid/Recordings.json",
    {
      schema: {
        operationId: "ListConferenceRecording",
        summary: "A conference's recordings, newest first",
        tags: ["Conferences"],
        params: pathParams({ AccountSid: sid("AC"), ConferenceSid: sid("CF") }),
        querystring: listQuery(dateQuery),
        response: responses(listOf("recordings", recordingSchema)),
      },
    },
    async (req) => {
      const { AccountSid, ConferenceSid } = req.params as { AccountSid: string; ConferenceSid: string };
      const all = (await accountRecordings(ctx, regionOf(req), AccountSid)).filter(
        (r) => r.conferenceSid === ConferenceSid,
      );
      return recordingsPage(req, all, conferenceRecordingResource);
    },
  );

  app.get(
    "/Accounts/:AccountSid/Conferences/:ConferenceSid/Recordings/:Sid.json",
    {
      schema: {
        operationId: "FetchConferenceRecording",
        summary: "One recording of a conference",
        tags: ["Conferences"],
        params: pathParams({ AccountSid: sid("AC"), ConferenceSid: sid("CF"), Sid: sid("RE") }),
        response: responses(recordingSchema),
      },
    },
    async (req) => {
      const { AccountSid, ConferenceSid, Sid } = req.params as {
        AccountSid: string;
        ConferenceSid: string;
        Sid: string;
      };
      const { recording } = await findRecording(ctx, req, AccountSid, Sid);
      if (recording.conferenceSid !== ConferenceSid)
        throw fail("notFound", `The requested resource ${req.url} was not found`);
      return conferenceRecordingResource(recording);
    },
  );

  app.get(
    "/Accounts/:AccountSid/Calls/:CallSid/Recordings/:Sid.json",
    {
      schema: {
        operationId: "FetchCallRecording",
        summary: "One recording of a call",
        tags: ["Calls"],
        params: pathParams({ AccountSid: sid("AC"), CallSid: sid("CA"), Sid: sid("RE") }),
        response: responses(recordingSchema),
      },
    },
    async (req) => {
      const { AccountSid, CallSid, Sid } = req.params as { AccountSid: string; CallSid: string; Sid: string };
      const { recording } = await findRecording(ctx, req, AccountSid, Sid);
      if (recording.callSid !== CallSid)
        throw fail("notFound", `The requested resource ${req.url} was not found`);
      return callRecordingResource(recording);
    },
  );
}
