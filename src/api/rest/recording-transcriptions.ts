// Recordings/{Sid}/Transcriptions: a recording's transcription, made by `<Record transcribe="true">`
// and kept in the recording's object metadata (recording-objects.ts). A recording of the account
// with none has an empty list; another account's recording is 404.
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { rfc2822 } from "../../model/dates.js";
import type { StoredRecording } from "../../store/recording-objects.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { findRecording } from "./recordings.js";
import { listOf, listQuery, pathParams, resource, responses, sid } from "./schemas.js";

const transcriptionSchema = resource("RecordingTranscription", {
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

/** Twilio's Transcription resource (api.v2010.account.recording.recording_transcription). */
function transcriptionResource(r: StoredRecording): Record<string, unknown>[] {
  const t = r.transcription;
  if (!t) return [];
  return [
    {
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
      uri: `/2010-04-01/Accounts/${r.accountSid}/Recordings/${r.sid}/Transcriptions/${t.sid}.json`,
    },
  ];
}

export async function recordingTranscriptionRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  app.get(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions.json",
    {
      schema: {
        operationId: "ListRecordingTranscription",
        summary: "A recording's transcriptions",
        tags: ["Recordings"],
        params: pathParams({ AccountSid: sid("AC"), RecordingSid: sid("RE") }),
        querystring: listQuery(),
        response: responses(listOf("transcriptions", transcriptionSchema)),
      },
    },
    async (req) => {
      const { AccountSid, RecordingSid } = req.params as { AccountSid: string; RecordingSid: string };
      const { recording } = await findRecording(ctx, req, AccountSid, RecordingSid);
      const path = req.url.split("?")[0] ?? "";
      const all = transcriptionResource(recording);
      return listPage(
        { path, key: "transcriptions", query: req.query as PageQuery, idOf: (t) => String(t.sid) },
        all,
        (page) => page,
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions/:Sid.json",
    {
      schema: {
        operationId: "FetchRecordingTranscription",
        summary: "One transcription of a recording",
        tags: ["Recordings"],
        params: pathParams({ AccountSid: sid("AC"), RecordingSid: sid("RE"), Sid: sid("TR") }),
        response: responses(transcriptionSchema),
      },
    },
    async (req) => {
      const { AccountSid, RecordingSid, Sid } = req.params as {
        AccountSid: string;
        RecordingSid: string;
        Sid: string;
      };
      const { recording } = await findRecording(ctx, req, AccountSid, RecordingSid);
      const found = transcriptionResource(recording).find((t) => t.sid === Sid);
      if (!found) throw fail("notFound", `The requested resource ${req.url} was not found`);
      return found;
    },
  );
}
