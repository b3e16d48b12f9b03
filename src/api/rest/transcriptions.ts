// Transcriptions, made by `<Record transcribe="true">` and kept in their recording's object metadata
// (recording-objects.ts), at every path Twilio serves them: the account's list and instances
// (/Transcriptions) and a recording's (/Recordings/{RE}/Transcriptions), each fetchable and deletable.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { rfc2822 } from "../../model/dates.js";
import { dropTranscription, type StoredRecording } from "../../store/recording-objects.js";
import { listPath, regionOf } from "../region-from-host.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { accountRecordings, findRecording } from "./recordings.js";
import { listOf, listQuery, pathParams, resource, responses, sid } from "./schemas.js";

const transcriptionSchema = resource("Transcription", {
  sid: "string",
  account_sid: "string",
  api_version: "string",
  date_created: "string",
  date_updated: "string",
  duration: "string",
  price: "number?",
  price_unit: "string",
  recording_sid: "string",
  status: "string",
  transcription_text: "string?",
  type: "string",
  uri: "string",
});

/**
 * Twilio's Transcription resource; `underRecording` gives the recording subresource's uri
 * (api.v2010.account.recording.recording_transcription) rather than the account's.
 */
function transcriptionResource(r: StoredRecording, underRecording: boolean): Record<string, unknown> | null {
  const t = r.transcription;
  if (!t) return null;
  const base = `/2010-04-01/Accounts/${r.accountSid}`;
  return {
    sid: t.sid,
    account_sid: r.accountSid,
    api_version: "2010-04-01",
    date_created: rfc2822(r.dateCreated),
    date_updated: rfc2822(r.dateCreated),
    duration: String(r.duration),
    price: null,
    price_unit: "USD",
    recording_sid: r.sid,
    status: t.status,
    transcription_text: t.status === "completed" ? t.text : null,
    type: "fast",
    uri: underRecording
      ? `${base}/Recordings/${r.sid}/Transcriptions/${t.sid}.json`
      : `${base}/Transcriptions/${t.sid}.json`,
  };
}

const notFound = (req: FastifyRequest) =>
  fail("notFound", `The requested resource ${req.url.split("?")[0]} was not found`);

/** The account's recording in the request's region that holds transcription `sid`; 20404 if none. */
async function recordingWithTranscription(
  ctx: RestContext,
  req: FastifyRequest,
  accountSid: string,
  sid: string,
) {
  const all = await accountRecordings(ctx, regionOf(req), accountSid);
  const recording = all.find((r) => r.transcription?.sid === sid);
  if (!recording) throw notFound(req);
  return recording;
}

/** Deletes the transcription (the recording stays): 204, as Twilio answers. */
async function deleteTranscription(
  ctx: RestContext,
  req: FastifyRequest,
  reply: FastifyReply,
  recordingSid: string,
) {
  const os = await ctx.buckets.recordings(regionOf(req));
  const info = os ? await os.info(recordingSid) : null;
  if (!os || !info) throw notFound(req);
  await dropTranscription(os, info);
  return reply.code(204).send();
}

export async function transcriptionRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  const listed = (req: FastifyRequest, items: Record<string, unknown>[]) =>
    listPage(
      {
        path: listPath(req),
        key: "transcriptions",
        query: req.query as PageQuery,
        idOf: (t) => String(t.sid),
      },
      items,
      (page) => page,
    );
  const account = pathParams({ AccountSid: sid("AC") });
  const oneOfAccount = pathParams({ AccountSid: sid("AC"), Sid: sid("TR") });
  const ofRecording = pathParams({ AccountSid: sid("AC"), RecordingSid: sid("RE") });
  const oneOfRecording = pathParams({ AccountSid: sid("AC"), RecordingSid: sid("RE"), Sid: sid("TR") });
  type Params = { AccountSid: string; RecordingSid: string; Sid: string };

  app.get(
    "/Accounts/:AccountSid/Transcriptions.json",
    {
      schema: {
        operationId: "ListTranscription",
        summary: "The account's transcriptions in the request's region, newest first",
        tags: ["Transcriptions"],
        params: account,
        querystring: listQuery(),
        response: responses(listOf("transcriptions", transcriptionSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as Params;
      const all = await accountRecordings(ctx, regionOf(req), AccountSid);
      return listed(
        req,
        all.flatMap((r) => transcriptionResource(r, false) ?? []) as Record<string, unknown>[],
      );
    },
  );

  // The TranscriptionUrl of a transcribeCallback has no extension (Twilio's answers XML there;
  // switchboard speaks JSON only, so both give the JSON resource).
  for (const path of [
    "/Accounts/:AccountSid/Transcriptions/:Sid.json",
    "/Accounts/:AccountSid/Transcriptions/:Sid",
  ]) {
    app.get(
      path,
      {
        schema: {
          operationId: path.endsWith(".json") ? "FetchTranscription" : "FetchTranscriptionUrl",
          summary: "One transcription",
          tags: ["Transcriptions"],
          params: oneOfAccount,
          response: responses(transcriptionSchema),
        },
      },
      async (req) => {
        const { AccountSid, Sid } = req.params as Params;
        return transcriptionResource(await recordingWithTranscription(ctx, req, AccountSid, Sid), false);
      },
    );
  }

  app.delete(
    "/Accounts/:AccountSid/Transcriptions/:Sid.json",
    {
      schema: {
        operationId: "DeleteTranscription",
        summary: "Deletes a transcription (its recording stays)",
        tags: ["Transcriptions"],
        params: oneOfAccount,
        response: responses(null, 204),
      },
    },
    async (req, reply) => {
      const { AccountSid, Sid } = req.params as Params;
      const recording = await recordingWithTranscription(ctx, req, AccountSid, Sid);
      return deleteTranscription(ctx, req, reply, recording.sid);
    },
  );

  app.get(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions.json",
    {
      schema: {
        operationId: "ListRecordingTranscription",
        summary: "A recording's transcriptions",
        tags: ["Recordings"],
        params: ofRecording,
        querystring: listQuery(),
        response: responses(listOf("transcriptions", transcriptionSchema)),
      },
    },
    async (req) => {
      const { AccountSid, RecordingSid } = req.params as Params;
      const { recording } = await findRecording(ctx, req, AccountSid, RecordingSid);
      const found = transcriptionResource(recording, true);
      return listed(req, found ? [found] : []);
    },
  );

  /** The recording's transcription `Sid`, or 20404. */
  const ofRecordingFound = async (req: FastifyRequest) => {
    const { AccountSid, RecordingSid, Sid } = req.params as Params;
    const { recording } = await findRecording(ctx, req, AccountSid, RecordingSid);
    if (recording.transcription?.sid !== Sid) throw notFound(req);
    return recording;
  };

  app.get(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions/:Sid.json",
    {
      schema: {
        operationId: "FetchRecordingTranscription",
        summary: "One transcription of a recording",
        tags: ["Recordings"],
        params: oneOfRecording,
        response: responses(transcriptionSchema),
      },
    },
    async (req) => transcriptionResource(await ofRecordingFound(req), true),
  );

  app.delete(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions/:Sid.json",
    {
      schema: {
        operationId: "DeleteRecordingTranscription",
        summary: "Deletes a recording's transcription (the recording stays)",
        tags: ["Recordings"],
        params: oneOfRecording,
        response: responses(null, 204),
      },
    },
    async (req, reply) => deleteTranscription(ctx, req, reply, (await ofRecordingFound(req)).sid),
  );
}
