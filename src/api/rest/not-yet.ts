// Resources whose producers switchboard does not have yet (transcription):
// their lists are valid, empty Twilio pages and their instances are 404, so clients that read them
// work today and keep working when the verbs arrive.
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { listPage, type PageQuery } from "./paging.js";
import { listOf, listQuery, pathParams, resource, responses, sid } from "./schemas.js";

interface Family {
  tag: string;
  /** Path after /Accounts/{AccountSid}, with the list's parent parameters. */
  list: string;
  /** Path of one instance. */
  instance: string;
  key: string;
  name: string;
  params: Record<string, string>;
  instanceSid: string;
  fields: Record<string, string>;
}

const FAMILIES: Family[] = [
  {
    tag: "Transcriptions",
    list: "/Transcriptions.json",
    instance: "/Transcriptions/:Sid.json",
    key: "transcriptions",
    name: "Transcription",
    params: {},
    instanceSid: "TR",
    fields: { sid: "string", recording_sid: "string", status: "string", transcription_text: "string?" },
  },
];

export async function notYetRoutes(app: FastifyInstance): Promise<void> {
  for (const f of FAMILIES) {
    const parents = Object.fromEntries(Object.entries(f.params).map(([name, prefix]) => [name, sid(prefix)]));
    const item = resource(f.name, f.fields);
    const plural = f.key.replace(/_(\w)/, (_, c: string) => c.toUpperCase());
    app.get(
      `/Accounts/:AccountSid${f.list}`,
      {
        schema: {
          operationId: `List${f.name}`,
          summary: `${plural}: always empty until switchboard produces them`,
          tags: [f.tag],
          params: pathParams({ AccountSid: sid("AC"), ...parents }),
          querystring: listQuery(),
          response: responses(listOf(f.key, item)),
        },
      },
      async (req) =>
        listPage(
          { path: req.url.split("?")[0] ?? "", key: f.key, query: req.query as PageQuery, idOf: () => "" },
          [],
          () => [],
        ),
    );
    const idParam = f.instance.endsWith(":CallSid.json") ? "CallSid" : "Sid";
    app.get(
      `/Accounts/:AccountSid${f.instance}`,
      {
        schema: {
          operationId: `Fetch${f.name}`,
          summary: `One ${f.name}: none exist yet`,
          tags: [f.tag],
          params: pathParams({ AccountSid: sid("AC"), ...parents, [idParam]: sid(f.instanceSid) }),
          response: responses(item),
        },
      },
      async (req) => {
        throw fail("notFound", `The requested resource ${req.url} was not found`);
      },
    );
  }
}
