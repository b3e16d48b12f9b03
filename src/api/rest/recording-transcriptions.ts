// Recordings/{Sid}/Transcriptions: a recording's transcriptions. switchboard does not transcribe
// yet, so a recording of the account has an empty list, and any other recording is 404.
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { findRecording } from "./recordings.js";
import { listOf, listQuery, pathParams, resource, responses, sid } from "./schemas.js";

const transcriptionSchema = resource("RecordingTranscription", {
  sid: "string",
  recording_sid: "string",
  status: "string",
  transcription_text: "string?",
});

export async function recordingTranscriptionRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  app.get(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions.json",
    {
      schema: {
        operationId: "ListRecordingTranscription",
        summary: "A recording's transcriptions: empty until switchboard transcribes",
        tags: ["Recordings"],
        params: pathParams({ AccountSid: sid("AC"), RecordingSid: sid("RE") }),
        querystring: listQuery(),
        response: responses(listOf("transcriptions", transcriptionSchema)),
      },
    },
    async (req) => {
      const { AccountSid, RecordingSid } = req.params as { AccountSid: string; RecordingSid: string };
      await findRecording(ctx, req, AccountSid, RecordingSid);
      const path = req.url.split("?")[0] ?? "";
      return listPage(
        { path, key: "transcriptions", query: req.query as PageQuery, idOf: () => "" },
        [],
        () => [],
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Recordings/:RecordingSid/Transcriptions/:Sid.json",
    {
      schema: {
        operationId: "FetchRecordingTranscription",
        summary: "One transcription of a recording: none exist yet",
        tags: ["Recordings"],
        params: pathParams({ AccountSid: sid("AC"), RecordingSid: sid("RE"), Sid: sid("TR") }),
        response: responses(transcriptionSchema),
      },
    },
    async (req) => {
      throw fail("notFound", `The requested resource ${req.url} was not found`);
    },
  );
}
